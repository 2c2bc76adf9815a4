//! Stripe Checkout and its webhook against an in-process fake of the two
//! Stripe endpoints used (`POST /v1/checkout/sessions`, `GET
//! /v1/checkout/sessions/{id}`), served over HTTP on loopback and built on
//! Stripe's published example objects (`tests/fixtures/stripe-fixtures.json`,
//! from stripe/openapi). Webhooks are signed exactly as Stripe signs them.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use app::stripe::{sign, Secret, StripeConfig};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use common::{spawn_app_with_stripe, TestApp};
use serde_json::{json, Value};

const WEBHOOK_SECRET: &str = "whsec_test_recauda";
const SECRET_KEY: &str = "sk_test_recauda";

fn fixtures() -> Value {
    serde_json::from_str(include_str!("fixtures/stripe-fixtures.json")).expect("fixtures parse")
}

/// One request the fake received.
#[derive(Clone, Debug)]
struct Received {
    idempotency_key: Option<String>,
    authorization: Option<String>,
    params: Vec<(String, String)>,
}

impl Received {
    fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Fake {
    created: Mutex<Vec<Received>>,
    sessions: Mutex<HashMap<String, Value>>,
}

async fn create_session(State(fake): State<Arc<Fake>>, headers: HeaderMap, body: Bytes) -> Json<Value> {
    let params: Vec<(String, String)> =
        form_urlencoded::parse(&body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::to_string);
    let received =
        Received { idempotency_key: header("idempotency-key"), authorization: header("authorization"), params };
    let mut sessions = fake.sessions.lock().unwrap();
    let id = format!("cs_test_recauda{:04}", sessions.len() + 1);
    let unit: i64 = received.param("line_items[0][price_data][unit_amount]").unwrap_or("0").parse().unwrap();
    let quantity: i64 = received.param("line_items[0][quantity]").unwrap_or("1").parse().unwrap();
    let metadata: serde_json::Map<String, Value> = received
        .params
        .iter()
        .filter_map(|(k, v)| {
            let key = k.strip_prefix("metadata[")?.strip_suffix(']')?;
            Some((key.to_string(), Value::String(v.clone())))
        })
        .collect();
    let mut session = fixtures()["resources"]["checkout.session"].clone();
    session["id"] = json!(id);
    session["amount_total"] = json!(unit * quantity);
    session["amount_subtotal"] = json!(unit * quantity);
    session["currency"] = json!(received.param("currency"));
    session["metadata"] = Value::Object(metadata);
    session["payment_method_types"] = json!(["card", "oxxo"]);
    session["success_url"] = json!(received.param("success_url"));
    session["cancel_url"] = json!(received.param("cancel_url"));
    session["expires_at"] = json!(received.param("expires_at").map(|t| t.parse::<i64>().unwrap()));
    session["client_reference_id"] = json!(received.param("client_reference_id"));
    session["url"] = json!(format!("https://checkout.stripe.com/c/pay/{id}"));
    session["status"] = json!("open");
    session["payment_status"] = json!("unpaid");
    sessions.insert(id, session.clone());
    fake.created.lock().unwrap().push(received);
    Json(session)
}

async fn retrieve_session(State(fake): State<Arc<Fake>>, Path(id): Path<String>) -> Response {
    match fake.sessions.lock().unwrap().get(&id) {
        Some(s) => Json(s.clone()).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": {"type": "invalid_request_error", "message": "No such checkout.session"}})),
        )
            .into_response(),
    }
}

/// The fake, listening on 127.0.0.1:0; its base URL.
async fn spawn_fake() -> (Arc<Fake>, String) {
    let fake = Arc::new(Fake::default());
    let router = Router::new()
        .route("/v1/checkout/sessions", post(create_session))
        .route("/v1/checkout/sessions/{id}", get(retrieve_session))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    (fake, format!("http://{addr}"))
}

struct Harness {
    app: TestApp,
    fake: Arc<Fake>,
}

async fn harness() -> Harness {
    let (fake, base) = spawn_fake().await;
    let app = spawn_app_with_stripe(StripeConfig {
        secret_key: Secret::new(SECRET_KEY),
        webhook_secret: Some(Secret::new(WEBHOOK_SECRET)),
        api_base: Some(base),
        public_url: "https://pagos.loreto.gob.mx".into(),
    })
    .await;
    Harness { app, fake }
}

/// An order for every open charge of `account` (API) and its checkout:
/// (order id, session id, the checkout answer).
async fn order_and_checkout(h: &Harness, account: &str) -> (i64, String, Value) {
    let (status, order) = h.app.post_json("/api/v1/orders", &json!({ "account": account })).await;
    assert_eq!(status, 201, "{order}");
    let id = order["id"].as_i64().unwrap();
    let (status, checkout) = h.app.post_json(&format!("/api/v1/orders/{id}/checkout"), &json!({})).await;
    assert_eq!(status, 201, "{checkout}");
    assert_eq!(checkout["provider"], "stripe");
    let attempt = h.app.store.get_attempt(checkout["attempt_id"].as_i64().unwrap()).await.unwrap().unwrap();
    let session = attempt.provider_ref.clone().expect("the session id is the attempt's provider_ref");
    assert_eq!(checkout["redirect_url"], format!("https://checkout.stripe.com/c/pay/{session}"));
    (id, session, checkout)
}

fn session_of(h: &Harness, id: &str) -> Value {
    h.fake.sessions.lock().unwrap()[id].clone()
}

/// A Stripe event (the fixture's envelope) about `session`.
fn event(id: &str, event_type: &str, session: &Value) -> String {
    let mut e = fixtures()["resources"]["event"].clone();
    e["id"] = json!(id);
    e["type"] = json!(event_type);
    e["data"] = json!({ "object": session });
    e.to_string()
}

fn with(session: &Value, status: &str, payment_status: &str) -> Value {
    let mut s = session.clone();
    s["status"] = json!(status);
    s["payment_status"] = json!(payment_status);
    s
}

async fn deliver_signed(app: &TestApp, body: &str, signature: &str) -> (u16, Value) {
    let r = app
        .client
        .post(format!("{}/api/v1/stripe/webhook", app.base))
        .header("content-type", "application/json")
        .header("stripe-signature", signature)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Delivers `body` signed now, as Stripe does.
async fn deliver(app: &TestApp, body: &str) -> (u16, Value) {
    let now = chrono::Utc::now().timestamp();
    deliver_signed(app, body, &sign(WEBHOOK_SECRET, now, body.as_bytes())).await
}

async fn order(app: &TestApp, id: i64) -> Value {
    let (status, order) = app.get_json(&format!("/api/v1/orders/{id}")).await;
    assert_eq!(status, 200, "{order}");
    order
}

fn moves_to(order: &Value, status: &str) -> usize {
    order["transitions"].as_array().unwrap().iter().filter(|t| t["to"] == status).count()
}

async fn open_charges(app: &TestApp, account: &str) -> usize {
    let (status, doc) = app.get_json(&format!("/api/v1/debts?account={account}")).await;
    assert_eq!(status, 200, "{doc}");
    doc["accounts"][0]["items"].as_array().map_or(0, |i| i.len())
}

#[tokio::test]
async fn card_paid_through_checkout_and_a_signed_webhook() {
    let h = harness().await;
    let (id, session_id, checkout) = order_and_checkout(&h, "P-000002").await;

    // What Stripe was asked.
    let created = h.fake.created.lock().unwrap().clone();
    assert_eq!(created.len(), 1);
    let req = &created[0];
    let attempt = h.app.store.get_attempt(checkout["attempt_id"].as_i64().unwrap()).await.unwrap().unwrap();
    assert_eq!(req.authorization.as_deref(), Some(format!("Bearer {SECRET_KEY}").as_str()));
    assert_eq!(req.idempotency_key.as_deref(), Some(attempt.idempotency_key.as_str()));
    assert_eq!(req.param("mode"), Some("payment"));
    assert_eq!(req.param("currency"), Some("mxn"));
    assert_eq!(req.param("line_items[0][price_data][currency]"), Some("mxn"));
    assert_eq!(req.param("line_items[0][price_data][unit_amount]"), Some("64000"), "640.00 in centavos");
    assert_eq!(req.param("line_items[0][quantity]"), Some("1"));
    assert_eq!(req.param("metadata[order_id]"), Some(id.to_string().as_str()));
    assert_eq!(req.param("metadata[attempt_id]"), Some(attempt.id.to_string().as_str()));
    let methods: Vec<&str> =
        req.params.iter().filter(|(k, _)| k.starts_with("allowed_payment_method_types")).map(|(_, v)| v.as_str()).collect();
    assert_eq!(methods, ["card", "oxxo"]);
    let reference = order(&h.app, id).await["reference"].as_str().unwrap().to_string();
    assert_eq!(req.param("cancel_url"), Some(format!("https://pagos.loreto.gob.mx/orden/{reference}").as_str()));
    assert!(req.param("success_url").unwrap().starts_with(&format!("https://pagos.loreto.gob.mx/orden/{reference}")));
    assert!(req.param("expires_at").is_some());
    assert_eq!(order(&h.app, id).await["status"], "pending");

    // Pressing "pay" again resumes the same session (GET from Stripe), no second session.
    let (status, again) = h.app.post_json(&format!("/api/v1/orders/{id}/checkout"), &json!({})).await;
    assert_eq!((status, &again["redirect_url"]), (201, &checkout["redirect_url"]), "{again}");
    assert_eq!(h.fake.created.lock().unwrap().len(), 1);

    // A forged signature and a stale replay change nothing.
    let paid = event("evt_card_paid", "checkout.session.completed", &with(&session_of(&h, &session_id), "complete", "paid"));
    let now = chrono::Utc::now().timestamp();
    let (status, body) = deliver_signed(&h.app, &paid, &sign("whsec_forged", now, paid.as_bytes())).await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("bad_signature")), "{body}");
    let (status, _) = deliver_signed(&h.app, &paid, &format!("t={now},v1={}", "ab".repeat(32))).await;
    assert_eq!(status, 400);
    let (status, _) = deliver_signed(&h.app, &paid, &sign(WEBHOOK_SECRET, now - 6 * 60, paid.as_bytes())).await;
    assert_eq!(status, 400, "a replay older than 5 minutes is refused");
    let (status, _) = deliver_signed(&h.app, &paid, "").await;
    assert_eq!(status, 400);
    assert_eq!(order(&h.app, id).await["status"], "pending");
    assert_eq!(open_charges(&h.app, "P-000002").await, 1);

    // Unknown event types: 200, ignored.
    let (status, body) = deliver(&h.app, &event("evt_other", "payment_intent.created", &json!({"id": "pi_1"}))).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ignored")), "{body}");

    // The real one, delivered ten times at once: applied once.
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let app_client = h.app.client.clone();
        let base = h.app.base.clone();
        let paid = paid.clone();
        tasks.push(tokio::spawn(async move {
            let sig = sign(WEBHOOK_SECRET, chrono::Utc::now().timestamp(), paid.as_bytes());
            let r = app_client
                .post(format!("{base}/api/v1/stripe/webhook"))
                .header("stripe-signature", sig)
                .body(paid)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap())
        }));
    }
    let mut applied = 0;
    for t in tasks {
        let (status, body) = t.await.unwrap();
        assert_eq!(status, 200, "{body}");
        applied += usize::from(body["status"] == "applied");
    }
    assert_eq!(applied, 1);
    let o = order(&h.app, id).await;
    assert_eq!(o["status"], "succeeded");
    assert_eq!(moves_to(&o, "succeeded"), 1);
    assert_eq!(open_charges(&h.app, "P-000002").await, 0, "the charge is paid");
    let attempt = h.app.store.get_attempt(attempt.id).await.unwrap().unwrap();
    assert_eq!((attempt.status.as_str(), attempt.method.as_deref()), ("succeeded", Some("card")));
}

#[tokio::test]
async fn oxxo_pending_then_paid_and_oxxo_expired() {
    let h = harness().await;
    let (id, session_id, _) = order_and_checkout(&h, "P-000002").await;
    let session = session_of(&h, &session_id);
    let (status, _) = deliver(&h.app, &event("evt_oxxo_1", "checkout.session.completed", &with(&session, "complete", "unpaid"))).await;
    assert_eq!(status, 200);
    assert_eq!(order(&h.app, id).await["status"], "pending");
    assert_eq!(open_charges(&h.app, "P-000002").await, 1, "awaiting the cash");
    let (status, _) = deliver(
        &h.app,
        &event("evt_oxxo_2", "checkout.session.async_payment_succeeded", &with(&session, "complete", "paid")),
    )
    .await;
    assert_eq!(status, 200);
    let o = order(&h.app, id).await;
    assert_eq!((o["status"].as_str(), moves_to(&o, "succeeded")), (Some("succeeded"), 1));
    assert_eq!(open_charges(&h.app, "P-000002").await, 0);

    // Another OXXO voucher that is never paid: expired, charges released.
    let (id, session_id, _) = order_and_checkout(&h, "A-000003").await;
    let session = session_of(&h, &session_id);
    deliver(&h.app, &event("evt_oxxo_3", "checkout.session.completed", &with(&session, "complete", "unpaid"))).await;
    let (status, _) = deliver(&h.app, &event("evt_oxxo_4", "checkout.session.expired", &with(&session, "expired", "unpaid"))).await;
    assert_eq!(status, 200);
    assert_eq!(order(&h.app, id).await["status"], "expired");
    assert_eq!(open_charges(&h.app, "A-000003").await, 2);
    let (status, again) = h.app.post_json("/api/v1/orders", &json!({ "account": "A-000003" })).await;
    assert_eq!(status, 201, "the released charges can be ordered again: {again}");
}

#[tokio::test]
async fn events_out_of_order_succeed_once() {
    let h = harness().await;
    let (id, session_id, _) = order_and_checkout(&h, "P-000002").await;
    let session = session_of(&h, &session_id);
    let (status, _) = deliver(
        &h.app,
        &event("evt_late_2", "checkout.session.async_payment_succeeded", &with(&session, "complete", "paid")),
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) =
        deliver(&h.app, &event("evt_late_1", "checkout.session.completed", &with(&session, "complete", "unpaid"))).await;
    assert_eq!(status, 200, "{body}");
    let o = order(&h.app, id).await;
    assert_eq!((o["status"].as_str(), moves_to(&o, "succeeded")), (Some("succeeded"), 1), "{o}");
    assert_eq!(open_charges(&h.app, "P-000002").await, 0);
}

#[tokio::test]
async fn an_amount_mismatch_is_not_applied() {
    let h = harness().await;
    let (id, session_id, _) = order_and_checkout(&h, "P-000002").await;
    let mut session = with(&session_of(&h, &session_id), "complete", "paid");
    session["amount_total"] = json!(100);
    let (status, body) = deliver(&h.app, &event("evt_short", "checkout.session.completed", &session)).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("refused")), "{body}");
    session["amount_total"] = json!(64_000);
    session["currency"] = json!("usd");
    let (status, _) = deliver(&h.app, &event("evt_usd", "checkout.session.completed", &session)).await;
    assert_eq!(status, 200);
    assert_eq!(order(&h.app, id).await["status"], "pending");
    assert_eq!(open_charges(&h.app, "P-000002").await, 1);
}

#[tokio::test]
async fn two_tabs_paying_the_same_charges_get_a_409() {
    let h = harness().await;
    let (_id, _, _) = order_and_checkout(&h, "P-000002").await;
    let (status, body) = h.app.post_json("/api/v1/orders", &json!({ "account": "P-000002" })).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("charges_in_live_order")), "{body}");
    assert_eq!(h.fake.created.lock().unwrap().len(), 1, "one Checkout Session only");
}

#[tokio::test]
async fn a_lost_webhook_is_healed_by_the_sweep() {
    let h = harness().await;
    let (id, session_id, _) = order_and_checkout(&h, "P-000002").await;
    // Stripe took the card, but its webhook never arrived.
    {
        let mut sessions = h.fake.sessions.lock().unwrap();
        let s = sessions.get_mut(&session_id).unwrap();
        s["status"] = json!("complete");
        s["payment_status"] = json!("paid");
    }
    let now = h.app.state.clock.now();
    assert_eq!(app::payments::heal_stripe_attempts(&h.app.state, now).await.unwrap(), 0, "too recent to ask about");
    assert_eq!(order(&h.app, id).await["status"], "pending");
    let later = now + chrono::Duration::minutes(16);
    assert_eq!(app::payments::heal_stripe_attempts(&h.app.state, later).await.unwrap(), 1);
    let o = order(&h.app, id).await;
    assert_eq!((o["status"].as_str(), moves_to(&o, "succeeded")), (Some("succeeded"), 1));
    assert_eq!(open_charges(&h.app, "P-000002").await, 0);
    // Sweeping again, and the late webhook, change nothing.
    assert_eq!(app::payments::heal_stripe_attempts(&h.app.state, later).await.unwrap(), 0);
    let (status, _) =
        deliver(&h.app, &event("evt_late", "checkout.session.completed", &session_of(&h, &session_id))).await;
    assert_eq!(status, 200);
    assert_eq!(moves_to(&order(&h.app, id).await, "succeeded"), 1);
}

#[tokio::test]
async fn the_webhook_is_in_the_openapi_document_and_absent_without_stripe() {
    let app = common::spawn_app().await;
    let (_, doc) = app.get_json("/api/v1/openapi.json").await;
    assert_eq!(doc["paths"]["/api/v1/stripe/webhook"]["post"]["operationId"], "stripeWebhook");
    let body = event("evt_x", "checkout.session.completed", &json!({"id": "cs_x"}));
    let (status, body) = deliver(&app, &body).await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("stripe_not_configured")), "{body}");
}
