//! Stripe Checkout and its webhook against an in-process fake of the Stripe
//! endpoints used (`POST /v1/checkout/sessions`, `GET
//! /v1/checkout/sessions/{id}` with `expand[]=payment_intent`, `POST
//! /v1/refunds`), served over HTTP on loopback and built on Stripe's
//! published example objects (`tests/fixtures/stripe-fixtures.json`, from
//! stripe/openapi). Like Stripe, the fake answers a repeated idempotency key
//! with the first answer. Webhooks are signed exactly as Stripe signs them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::common::{spawn_app_with_stripe, TestApp};
use app::stripe::{sign, Secret, StripeConfig};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

pub(crate) const WEBHOOK_SECRET: &str = "whsec_test_recauda";
pub(crate) const SECRET_KEY: &str = "sk_test_recauda";

pub(crate) fn fixtures() -> Value {
    serde_json::from_str(include_str!("fixtures/stripe-fixtures.json")).expect("fixtures parse")
}

/// One request the fake received.
#[derive(Clone, Debug)]
pub(crate) struct Received {
    pub(crate) idempotency_key: Option<String>,
    pub(crate) authorization: Option<String>,
    pub(crate) params: Vec<(String, String)>,
}

impl Received {
    fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
pub(crate) struct Fake {
    pub(crate) created: Mutex<Vec<Received>>,
    pub(crate) sessions: Mutex<HashMap<String, Value>>,
    /// PaymentIntents by id (what `expand[]=payment_intent` embeds).
    pub(crate) intents: Mutex<HashMap<String, Value>>,
    /// Idempotency key → the first answer (Stripe replays it for 24 h).
    pub(crate) replies: Mutex<HashMap<String, Value>>,
    pub(crate) refunds: Mutex<Vec<Received>>,
    /// Refuse refunds (Stripe down), to see them retried.
    pub(crate) refuse_refunds: Mutex<bool>,
    /// The session ids retrieved, in order.
    pub(crate) retrieved: Mutex<Vec<String>>,
    /// Answers for the next "create a session" requests, before anything
    /// else (a refusal, a 500): Stripe's error shape with this status.
    pub(crate) create_failures: Mutex<std::collections::VecDeque<u16>>,
    /// Every "create a session" request answered 503 (Stripe unreachable).
    pub(crate) down: Mutex<bool>,
    /// How many "create a session" requests arrived, failed ones included.
    pub(crate) create_calls: Mutex<usize>,
    /// How long "retrieve a session" takes to answer (a slow Stripe).
    pub(crate) retrieve_delay: Mutex<std::time::Duration>,
    /// The next this many "create a session" requests create the session
    /// and then answer only after 12 s (past the client's 10-s limit: a
    /// timeout whose request Stripe did carry out).
    pub(crate) hang_next_creates: Mutex<usize>,
    /// Like Stripe, refuse (400) a new session whose `expires_at` is
    /// before this Unix time (a request re-sent days later).
    pub(crate) refuse_expiring_before: Mutex<Option<i64>>,
    /// Every "retrieve a session" answered 500 (Stripe failing).
    pub(crate) retrieve_fails: Mutex<bool>,
    /// Charges by id (what `expand[]=payment_intent.latest_charge` embeds).
    pub(crate) charges: Mutex<HashMap<String, Value>>,
    /// Payouts, newest first (`GET /v1/payouts`), built by [`PayoutBuilder`].
    pub(crate) payouts: Mutex<Vec<Value>>,
    /// Each payout's balance transactions, with their sources as objects
    /// (`GET /v1/balance_transactions?payout=…`, newest first).
    pub(crate) balance_transactions: Mutex<HashMap<String, Vec<Value>>>,
    /// At most this many objects per page of a list (Stripe's own limit is
    /// 100; tests lower it to see the pagination); 0 = the request's limit.
    pub(crate) page_cap: Mutex<usize>,
    /// Listing this payout's balance transactions answers 500 from the
    /// second page on (Stripe failing half-way through a payout).
    pub(crate) fail_transactions_of: Mutex<Option<String>>,
    /// The query strings of the list requests, in order.
    pub(crate) list_queries: Mutex<Vec<String>>,
}

/// Stripe's error body (`{"error": {"type", "code", "message"}}`) with `status`.
fn stripe_error(status: u16) -> Response {
    let (kind, code, message) = match status {
        400 => (
            "invalid_request_error",
            "parameter_invalid_integer",
            "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.",
        ),
        _ => ("api_error", "", "An unknown error occurred"),
    };
    let body = json!({"error": {"type": kind, "code": code, "message": message}});
    (StatusCode::from_u16(status).unwrap(), Json(body)).into_response()
}

fn received(headers: &HeaderMap, body: &Bytes) -> Received {
    let params: Vec<(String, String)> =
        form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::to_string);
    Received { idempotency_key: header("idempotency-key"), authorization: header("authorization"), params }
}

async fn create_session(State(fake): State<Arc<Fake>>, headers: HeaderMap, body: Bytes) -> Response {
    *fake.create_calls.lock().unwrap() += 1;
    if *fake.down.lock().unwrap() {
        return stripe_error(503);
    }
    if let Some(status) = fake.create_failures.lock().unwrap().pop_front() {
        return stripe_error(status);
    }
    let received = received(&headers, &body);
    let key = received.idempotency_key.clone().unwrap_or_default();
    let replay = fake.replies.lock().unwrap().contains_key(&key);
    let expires_at: Option<i64> = received.param("expires_at").and_then(|t| t.parse().ok());
    let refuse_before = *fake.refuse_expiring_before.lock().unwrap();
    if let (false, Some(before), Some(at)) = (replay, refuse_before, expires_at) {
        if at < before {
            return stripe_error(400);
        }
    }
    let session = create_now(&fake, received);
    let hang = {
        let mut hang = fake.hang_next_creates.lock().unwrap();
        let now = *hang > 0;
        *hang = hang.saturating_sub(1);
        now
    };
    if hang {
        tokio::time::sleep(std::time::Duration::from_secs(12)).await;
    }
    Json(session).into_response()
}

/// The session of this request: the first answer to its idempotency key
/// (like Stripe, one answer per key even for requests that race), or a new one.
fn create_now(fake: &Fake, received: Received) -> Value {
    let key = received.idempotency_key.clone().expect("every create carries an idempotency key");
    let mut replies = fake.replies.lock().unwrap();
    if let Some(first) = replies.get(&key) {
        return first.clone();
    }
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
    let methods: Vec<&str> = received
        .params
        .iter()
        .filter(|(k, _)| k.starts_with("allowed_payment_method_types"))
        .map(|(_, v)| v.as_str())
        .collect();
    session["payment_method_types"] = json!(methods);
    session["success_url"] = json!(received.param("success_url"));
    session["cancel_url"] = json!(received.param("cancel_url"));
    session["expires_at"] = json!(received.param("expires_at").map(|t| t.parse::<i64>().unwrap()));
    session["client_reference_id"] = json!(received.param("client_reference_id"));
    session["url"] = json!(format!("https://checkout.stripe.com/c/pay/{id}"));
    session["status"] = json!("open");
    session["payment_status"] = json!("unpaid");
    sessions.insert(id, session.clone());
    drop(sessions);
    fake.created.lock().unwrap().push(received);
    replies.insert(key, session.clone());
    session
}

async fn retrieve_session(
    State(fake): State<Arc<Fake>>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let expanded: Vec<String> = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .filter(|(k, _)| k.starts_with("expand"))
        .map(|(_, v)| v.into_owned())
        .collect();
    let expand = expanded.iter().any(|v| v == "payment_intent" || v.starts_with("payment_intent."));
    let expand_charge = expanded.iter().any(|v| v == "payment_intent.latest_charge");
    fake.retrieved.lock().unwrap().push(id.clone());
    let delay = *fake.retrieve_delay.lock().unwrap();
    tokio::time::sleep(delay).await;
    if *fake.retrieve_fails.lock().unwrap() {
        return stripe_error(500);
    }
    let Some(mut session) = fake.sessions.lock().unwrap().get(&id).cloned() else {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"error": {"type": "invalid_request_error", "message": "No such checkout.session"}})),
        )
            .into_response();
    };
    if expand {
        if let Some(mut pi) =
            session["payment_intent"].as_str().and_then(|pi| fake.intents.lock().unwrap().get(pi).cloned())
        {
            if expand_charge {
                if let Some(charge) =
                    pi["latest_charge"].as_str().and_then(|c| fake.charges.lock().unwrap().get(c).cloned())
                {
                    pi["latest_charge"] = charge;
                }
            }
            session["payment_intent"] = pi;
        }
    }
    Json(session).into_response()
}

async fn create_refund(State(fake): State<Arc<Fake>>, headers: HeaderMap, body: Bytes) -> Response {
    let received = received(&headers, &body);
    fake.refunds.lock().unwrap().push(received.clone());
    if *fake.refuse_refunds.lock().unwrap() {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"error": {"type": "api_error", "message": "Stripe is having trouble"}})),
        )
            .into_response();
    }
    let key = received.idempotency_key.clone().expect("every refund carries an idempotency key");
    let mut replies = fake.replies.lock().unwrap();
    let refunds = fake.refunds.lock().unwrap();
    let answer = replies
        .entry(key)
        .or_insert_with(|| {
            let mut r = fixtures()["resources"]["refund"].clone();
            r["id"] = json!(format!("re_test_recauda{:04}", refunds.len()));
            r["amount"] = json!(received.param("amount").unwrap().parse::<i64>().unwrap());
            r["currency"] = json!("mxn");
            r["payment_intent"] = json!(received.param("payment_intent"));
            r["reason"] = json!(received.param("reason"));
            r["status"] = json!("succeeded");
            r
        })
        .clone();
    Json(answer).into_response()
}

fn query_params(query: &Option<String>) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// One page of `objects` (newest first) as Stripe lists: `limit`
/// (default 10), after `starting_after`, with `has_more`.
fn list_page(fake: &Fake, objects: Vec<Value>, params: &[(String, String)], url: &str) -> Value {
    let param = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let mut limit: usize = param("limit").and_then(|l| l.parse().ok()).unwrap_or(10);
    let cap = *fake.page_cap.lock().unwrap();
    if cap > 0 {
        limit = limit.min(cap);
    }
    let start = match param("starting_after") {
        Some(after) => objects.iter().position(|o| o["id"] == after).map_or(objects.len(), |i| i + 1),
        None => 0,
    };
    let page: Vec<Value> = objects.iter().skip(start).take(limit).cloned().collect();
    let has_more = start + page.len() < objects.len();
    json!({ "object": "list", "url": url, "has_more": has_more, "data": page })
}

async fn list_payouts(State(fake): State<Arc<Fake>>, RawQuery(query): RawQuery) -> Response {
    fake.list_queries.lock().unwrap().push(format!("payouts?{}", query.clone().unwrap_or_default()));
    let params = query_params(&query);
    let gte: Option<i64> = params.iter().find(|(k, _)| k == "created[gte]").and_then(|(_, v)| v.parse().ok());
    let payouts: Vec<Value> = fake
        .payouts
        .lock()
        .unwrap()
        .iter()
        .filter(|p| gte.is_none_or(|t| p["created"].as_i64().unwrap() >= t))
        .cloned()
        .collect();
    Json(list_page(&fake, payouts, &params, "/v1/payouts")).into_response()
}

async fn list_balance_transactions(State(fake): State<Arc<Fake>>, RawQuery(query): RawQuery) -> Response {
    fake.list_queries.lock().unwrap().push(format!("balance_transactions?{}", query.clone().unwrap_or_default()));
    let params = query_params(&query);
    let payout = params.iter().find(|(k, _)| k == "payout").map(|(_, v)| v.clone()).unwrap_or_default();
    let later_page = params.iter().any(|(k, _)| k == "starting_after");
    if later_page && fake.fail_transactions_of.lock().unwrap().as_deref() == Some(payout.as_str()) {
        return stripe_error(500);
    }
    let expand = params.iter().any(|(k, v)| k.starts_with("expand") && v == "data.source");
    let mut transactions = fake.balance_transactions.lock().unwrap().get(&payout).cloned().unwrap_or_default();
    if !expand {
        for t in &mut transactions {
            let id = t["source"]["id"].clone();
            t["source"] = id;
        }
    }
    Json(list_page(&fake, transactions, &params, "/v1/balance_transactions")).into_response()
}

/// A payout for the fake to list, and its balance transactions (the
/// fixtures' payout, balance transaction, charge, refund and dispute, as
/// Stripe publishes them, with this test's amounts and ids).
pub(crate) struct PayoutBuilder {
    id: String,
    created: i64,
    transactions: Vec<Value>,
}

impl PayoutBuilder {
    pub(crate) fn new(id: &str, created: i64) -> PayoutBuilder {
        PayoutBuilder { id: id.into(), created, transactions: Vec::new() }
    }

    fn transaction(&mut self, kind: &str, category: &str, amount: i64, fee: i64, source: Value) -> String {
        let id = format!("txn_{}_{}", self.id, self.transactions.len() + 1);
        let mut t = fixtures()["resources"]["balance_transaction"].clone();
        t["id"] = json!(id);
        t["type"] = json!(kind);
        t["reporting_category"] = json!(category);
        t["amount"] = json!(amount);
        t["fee"] = json!(fee);
        t["net"] = json!(amount - fee);
        t["currency"] = json!("mxn");
        t["created"] = json!(self.created - 86_400 + self.transactions.len() as i64);
        t["available_on"] = json!(self.created);
        t["status"] = json!("available");
        t["description"] = source["description"].clone();
        if fee != 0 {
            t["fee_details"] = json!([{
                "amount": fee, "application": null, "currency": "mxn",
                "description": "Stripe processing fees", "type": "stripe_fee"
            }]);
        }
        t["source"] = source;
        self.transactions.push(t);
        id
    }

    /// A charge of PaymentIntent `pi` whose metadata carries `order_token`
    /// (as Stripe copies the PaymentIntent's metadata onto its charge).
    pub(crate) fn charge(mut self, pi: &str, amount: i64, fee: i64, order_token: Option<&str>) -> Self {
        let mut c = fixtures()["resources"]["charge"].clone();
        c["id"] = json!(format!("ch_of_{pi}"));
        c["payment_intent"] = json!(pi);
        c["amount"] = json!(amount);
        c["amount_captured"] = json!(amount);
        c["captured"] = json!(true);
        c["currency"] = json!("mxn");
        c["description"] = Value::Null;
        c["metadata"] = match order_token {
            Some(t) => json!({ "order_token": t }),
            None => json!({}),
        };
        self.transaction("charge", "charge", amount, fee, c);
        self
    }

    /// A charge of no Recauda order, with a description of its own.
    pub(crate) fn unknown_charge(mut self, id: &str, amount: i64, fee: i64, description: &str) -> Self {
        let mut c = fixtures()["resources"]["charge"].clone();
        c["id"] = json!(id);
        c["payment_intent"] = json!(format!("pi_of_{id}"));
        c["amount"] = json!(amount);
        c["currency"] = json!("mxn");
        c["description"] = json!(description);
        c["metadata"] = json!({ "order_token": description });
        self.transaction("charge", "charge", amount, fee, c);
        self
    }

    /// A refund of `amount` of PaymentIntent `pi`'s charge.
    pub(crate) fn refund(mut self, pi: &str, amount: i64) -> Self {
        let mut r = fixtures()["resources"]["refund"].clone();
        r["id"] = json!(format!("re_of_{pi}_{}", self.transactions.len()));
        r["amount"] = json!(amount);
        r["charge"] = json!(format!("ch_of_{pi}"));
        r["payment_intent"] = json!(pi);
        r["currency"] = json!("mxn");
        r["description"] = Value::Null;
        self.transaction("refund", "refund", -amount, 0, r);
        self
    }

    /// A dispute of `amount` of PaymentIntent `pi`'s charge, with Stripe's dispute fee.
    pub(crate) fn dispute(mut self, pi: &str, amount: i64, fee: i64) -> Self {
        let mut d = fixtures()["resources"]["dispute"].clone();
        d["id"] = json!(format!("du_of_{pi}"));
        d["amount"] = json!(amount);
        d["charge"] = json!(format!("ch_of_{pi}"));
        d["payment_intent"] = Value::Null;
        d["currency"] = json!("mxn");
        d["status"] = json!("needs_response");
        d["description"] = Value::Null;
        self.transaction("adjustment", "dispute", -amount, fee, d);
        self
    }

    /// One of Stripe's own fees (e.g. a monthly charge), as a negative amount.
    pub(crate) fn stripe_fee(mut self, amount: i64, description: &str) -> Self {
        let id = format!("txn_{}_{}", self.id, self.transactions.len() + 1);
        let mut t = fixtures()["resources"]["balance_transaction"].clone();
        t["id"] = json!(id);
        t["type"] = json!("stripe_fee");
        t["reporting_category"] = json!("fee");
        t["amount"] = json!(-amount);
        t["fee"] = json!(0);
        t["net"] = json!(-amount);
        t["currency"] = json!("mxn");
        t["created"] = json!(self.created - 3_600);
        t["description"] = json!(description);
        t["source"] = Value::Null;
        self.transactions.push(t);
        self
    }

    /// Hands the payout to the fake: its amount is its items' net.
    pub(crate) fn publish(self, fake: &Fake) -> Value {
        let net: i64 = self.transactions.iter().map(|t| t["net"].as_i64().unwrap()).sum();
        self.publish_as(fake, net)
    }

    /// Hands the payout to the fake with the amount `amount`.
    pub(crate) fn publish_as(self, fake: &Fake, amount: i64) -> Value {
        let mut p = fixtures()["resources"]["payout"].clone();
        p["id"] = json!(self.id);
        p["amount"] = json!(amount);
        p["currency"] = json!("mxn");
        p["created"] = json!(self.created);
        p["arrival_date"] = json!(self.created + 86_400);
        p["status"] = json!("paid");
        p["balance_transaction"] = json!(format!("txn_payout_{}", self.id));
        let mut own = fixtures()["resources"]["balance_transaction"].clone();
        own["id"] = json!(format!("txn_payout_{}", self.id));
        own["type"] = json!("payout");
        own["reporting_category"] = json!("payout");
        own["amount"] = json!(-amount);
        own["net"] = json!(-amount);
        own["fee"] = json!(0);
        own["currency"] = json!("mxn");
        own["created"] = json!(self.created);
        own["source"] = json!(self.id);
        let mut transactions = self.transactions;
        transactions.push(own);
        transactions.reverse();
        fake.balance_transactions.lock().unwrap().insert(self.id.clone(), transactions);
        let mut payouts = fake.payouts.lock().unwrap();
        payouts.push(p.clone());
        payouts.sort_by_key(|p| std::cmp::Reverse(p["created"].as_i64().unwrap()));
        p
    }
}

/// The fake, listening on 127.0.0.1:0; its base URL.
pub(crate) async fn spawn_fake() -> (Arc<Fake>, String) {
    let fake = Arc::new(Fake::default());
    let router = Router::new()
        .route("/v1/checkout/sessions", post(create_session))
        .route("/v1/checkout/sessions/{id}", get(retrieve_session))
        .route("/v1/refunds", post(create_refund))
        .route("/v1/payouts", get(list_payouts))
        .route("/v1/balance_transactions", get(list_balance_transactions))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    (fake, format!("http://{addr}"))
}

pub(crate) struct Harness {
    pub(crate) app: TestApp,
    pub(crate) fake: Arc<Fake>,
}

fn config(base: String) -> StripeConfig {
    StripeConfig {
        secret_key: Secret::new(SECRET_KEY),
        webhook_secret: Some(Secret::new(WEBHOOK_SECRET)),
        webhook_secret_previous: None,
        api_base: Some(base),
        public_url: "https://pagos.loreto.gob.mx".into(),
        spei: false,
        refund_overpayments: false,
    }
}

pub(crate) async fn harness() -> Harness {
    harness_with(|_| {}).await
}

async fn harness_with(tune: impl FnOnce(&mut StripeConfig)) -> Harness {
    let (fake, base) = spawn_fake().await;
    let mut config = config(base);
    tune(&mut config);
    let app = spawn_app_with_stripe(config).await;
    Harness { app, fake }
}

/// What Stripe does when the citizen picks OXXO at Checkout: the session
/// completes unpaid and its PaymentIntent shows the voucher (expiring at
/// `expires_after`, a Unix time). Returns the updated session.
fn choose_oxxo(h: &Harness, session_id: &str, expires_after: i64) -> Value {
    let pi_id = format!("pi_test_{session_id}");
    let mut pi = intent_fixture(&pi_id, "requires_action", session_of(h, session_id)["amount_total"].as_i64().unwrap());
    pi["payment_method_types"] = json!(["oxxo"]);
    pi["next_action"] = json!({
        "type": "oxxo_display_details",
        "oxxo_display_details": {
            "expires_after": expires_after,
            "hosted_voucher_url": format!("https://payments.stripe.com/oxxo/voucher/{pi_id}"),
            "number": "12345678901234657890123456789012"
        }
    });
    h.fake.intents.lock().unwrap().insert(pi_id.clone(), pi);
    set_session(h, session_id, "complete", "unpaid", Some(&pi_id))
}

/// Stripe's example PaymentIntent as this order's.
pub(crate) fn intent_fixture(id: &str, status: &str, amount: i64) -> Value {
    let mut pi = fixtures()["resources"]["payment_intent"].clone();
    pi["id"] = json!(id);
    pi["status"] = json!(status);
    pi["amount"] = json!(amount);
    pi["currency"] = json!("mxn");
    pi["canceled_at"] = Value::Null;
    pi["last_payment_error"] = Value::Null;
    pi["processing"] = Value::Null;
    pi["transfer_data"] = Value::Null;
    pi["next_action"] = Value::Null;
    pi
}

/// Moves the fake's session (what Stripe would report) and returns it.
pub(crate) fn set_session(h: &Harness, id: &str, status: &str, payment_status: &str, intent: Option<&str>) -> Value {
    let mut sessions = h.fake.sessions.lock().unwrap();
    let s = sessions.get_mut(id).unwrap();
    s["status"] = json!(status);
    s["payment_status"] = json!(payment_status);
    if let Some(pi) = intent {
        s["payment_intent"] = json!(pi);
    }
    s.clone()
}

/// An order for every open charge of `account` (API) and its checkout:
/// (the order's store id, session id, the checkout answer).
pub(crate) async fn order_and_checkout(h: &Harness, account: &str) -> (i64, String, Value) {
    let (status, order) = h.app.post_json("/api/v1/orders", &json!({ "account": account })).await;
    assert_eq!(status, 201, "{order}");
    let token = order["id"].as_str().unwrap().to_string();
    let id = crate::common::order_id(&h.app, &token).await;
    let (status, checkout) = h.app.post_json(&format!("/api/v1/orders/{token}/checkout"), &json!({})).await;
    assert_eq!(status, 201, "{checkout}");
    assert_eq!(checkout["provider"], "stripe");
    let attempt = h.app.store.get_attempt(checkout["attempt_id"].as_i64().unwrap()).await.unwrap().unwrap();
    let session = attempt.provider_ref.clone().expect("the session id is the attempt's provider_ref");
    assert_eq!(checkout["redirect_url"], format!("https://checkout.stripe.com/c/pay/{session}"));
    (id, session, checkout)
}

pub(crate) fn session_of(h: &Harness, id: &str) -> Value {
    h.fake.sessions.lock().unwrap()[id].clone()
}

/// A Stripe event (the fixture's envelope) about `session`.
pub(crate) fn event(id: &str, event_type: &str, session: &Value) -> String {
    let mut e = fixtures()["resources"]["event"].clone();
    e["id"] = json!(id);
    e["type"] = json!(event_type);
    e["data"] = json!({ "object": session });
    e.to_string()
}

pub(crate) fn with(session: &Value, status: &str, payment_status: &str) -> Value {
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
pub(crate) async fn deliver(app: &TestApp, body: &str) -> (u16, Value) {
    let now = chrono::Utc::now().timestamp();
    deliver_signed(app, body, &sign(WEBHOOK_SECRET, now, body.as_bytes())).await
}

/// The token of the order with store id `id` (its address in the API and the pages).
pub(crate) async fn token_of(app: &TestApp, id: i64) -> String {
    app.store.get_order(id).await.unwrap().expect("the order").token.to_string()
}

pub(crate) async fn order(app: &TestApp, id: i64) -> Value {
    let token = token_of(app, id).await;
    let (status, order) = app.get_json(&format!("/api/v1/orders/{token}")).await;
    assert_eq!(status, 200, "{order}");
    order
}

fn moves_to(order: &Value, status: &str) -> usize {
    order["transitions"].as_array().unwrap().iter().filter(|t| t["to"] == status).count()
}

pub(crate) async fn open_charges(app: &TestApp, account: &str) -> usize {
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
    // The PaymentIntent (and so its charge) carries the order's token: a
    // payout's transactions name their order.
    let order_token = token_of(&h.app, id).await;
    assert_eq!(req.param("metadata[order_token]"), Some(order_token.as_str()));
    assert_eq!(req.param("payment_intent_data[metadata][order_token]"), Some(order_token.as_str()));
    assert_eq!(req.param("payment_intent_data[metadata][order_id]"), Some(id.to_string().as_str()));
    let methods: Vec<&str> = req
        .params
        .iter()
        .filter(|(k, _)| k.starts_with("allowed_payment_method_types"))
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(methods, ["card", "oxxo"]);
    assert_eq!(req.param("cancel_url"), Some(format!("https://pagos.loreto.gob.mx/orden/{order_token}").as_str()));
    assert!(req.param("success_url").unwrap().starts_with(&format!("https://pagos.loreto.gob.mx/orden/{order_token}")));
    assert!(req.param("expires_at").is_some());
    assert_eq!(order(&h.app, id).await["status"], "pending");

    // Pressing "pay" again resumes the same session (GET from Stripe), no second session.
    let (status, again) =
        h.app.post_json(&format!("/api/v1/orders/{}/checkout", token_of(&h.app, id).await), &json!({})).await;
    assert_eq!((status, &again["redirect_url"]), (201, &checkout["redirect_url"]), "{again}");
    assert_eq!(h.fake.created.lock().unwrap().len(), 1);

    // A forged signature and a stale replay change nothing.
    let paid =
        event("evt_card_paid", "checkout.session.completed", &with(&session_of(&h, &session_id), "complete", "paid"));
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
    assert_eq!((attempt.status.as_str(), attempt.method.map(|m| m.as_str())), ("succeeded", Some("card")));
}

#[tokio::test]
async fn oxxo_pending_then_paid_and_oxxo_expired() {
    let h = harness().await;
    let (id, session_id, _) = order_and_checkout(&h, "P-000002").await;
    let session = session_of(&h, &session_id);
    let (status, _) =
        deliver(&h.app, &event("evt_oxxo_1", "checkout.session.completed", &with(&session, "complete", "unpaid")))
            .await;
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
    let (status, _) =
        deliver(&h.app, &event("evt_oxxo_4", "checkout.session.expired", &with(&session, "expired", "unpaid"))).await;
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
        deliver(&h.app, &event("evt_late_1", "checkout.session.completed", &with(&session, "complete", "unpaid")))
            .await;
    assert_eq!(status, 200, "{body}");
    let o = order(&h.app, id).await;
    assert_eq!((o["status"].as_str(), moves_to(&o, "succeeded")), (Some("succeeded"), 1), "{o}");
    assert_eq!(open_charges(&h.app, "P-000002").await, 0);
}

#[tokio::test]
async fn an_amount_or_currency_mismatch_is_a_discrepancy_that_frees_the_charges() {
    use app::domain::payment::OverpaymentReason;
    let h = harness().await;
    // Stripe reports $1.00 for an order of $640.
    let (id, session_id, _) = order_and_checkout(&h, "P-000002").await;
    let mut session = with(&session_of(&h, &session_id), "complete", "paid");
    session["amount_total"] = json!(100);
    let (status, body) = deliver(&h.app, &event("evt_short", "checkout.session.completed", &session)).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("discrepancy")), "{body}");
    // Never applied: no receipt, the charge still owed; the order is
    // closed (not pending forever) and its charge free for a new order.
    let o = order(&h.app, id).await;
    assert_eq!(o["status"], "failed", "{o}");
    assert!(o["receipt"].is_null());
    assert_eq!(open_charges(&h.app, "P-000002").await, 1);
    let over = h.app.store.overpayments_of_order(id).await.unwrap();
    assert_eq!(over.len(), 1);
    assert_eq!(
        (over[0].reason, over[0].amount),
        (OverpaymentReason::AmountMismatch, app::domain::money::Centavos(100))
    );
    let attempt = h.app.store.attempts_of_order(id).await.unwrap().pop().unwrap();
    assert_eq!(attempt.status.as_str(), "overpaid");
    // A redelivery changes nothing.
    let (_, body) = deliver(&h.app, &event("evt_short", "checkout.session.completed", &session)).await;
    assert_eq!(body["status"], "duplicate");
    assert_eq!(h.app.store.overpayments_of_order(id).await.unwrap().len(), 1);

    // The right amount in dollars: a currency discrepancy, same outcome.
    let (id, session_id, _) = order_and_checkout(&h, "P-000002").await;
    let mut session = with(&session_of(&h, &session_id), "complete", "paid");
    session["currency"] = json!("usd");
    let (status, body) = deliver(&h.app, &event("evt_usd", "checkout.session.completed", &session)).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("discrepancy")), "{body}");
    assert_eq!(order(&h.app, id).await["status"], "failed");
    let over = h.app.store.overpayments_of_order(id).await.unwrap();
    assert_eq!(over[0].reason, OverpaymentReason::CurrencyMismatch);
    assert_eq!(open_charges(&h.app, "P-000002").await, 1);
    let (status, _) = h.app.post_json("/api/v1/orders", &json!({ "account": "P-000002" })).await;
    assert_eq!(status, 201, "the charge is free for a new order");
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
    let app = crate::common::spawn_app().await;
    let (_, doc) = app.get_json("/api/v1/openapi.json").await;
    assert_eq!(doc["paths"]["/api/v1/stripe/webhook"]["post"]["operationId"], "stripeWebhook");
    let body = event("evt_x", "checkout.session.completed", &json!({"id": "cs_x"}));
    let (status, body) = deliver(&app, &body).await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("stripe_not_configured")), "{body}");
}

/// Waits (up to 10 s) until the order reaches `status`.
async fn until_status(app: &TestApp, id: i64, status: &str) -> Value {
    for _ in 0..200 {
        let o = order(app, id).await;
        if o["status"] == status {
            return o;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("order {id} never reached {status}: {}", order(app, id).await);
}

async fn page(app: &TestApp, path: &str) -> (u16, String) {
    let r = app.get(path).await;
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn back_from_checkout_the_page_says_in_process_until_stripe_confirms() {
    let h = harness().await;
    let (id, session_id, _) = order_and_checkout(&h, "P-000002").await;
    let order_token = token_of(&h.app, id).await;
    let back = format!("/orden/{order_token}?pago=stripe");

    // Redirected back before Stripe confirms (the session is still open):
    // "pago en proceso", refreshing itself; no second "pay" button. The
    // page does not call Stripe while it renders: it asks a background
    // worker to.
    let asked_before = h.fake.retrieved.lock().unwrap().len();
    let (status, html) = page(&h.app, &back).await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"data-testid="payment-processing""#), "{html}");
    assert!(html.contains("Pago en proceso") && html.contains(r#"http-equiv="refresh""#), "{html}");
    assert!(!html.contains(r#"data-testid="pay-online""#));
    // In the background, Stripe is asked, and the sweep will ask again
    // about the open session in 15 minutes (or right after it expires, if
    // sooner), not at every pass.
    let attempt = {
        let mut waited = 0;
        loop {
            let a = h.app.store.attempts_of_order(id).await.unwrap().pop().unwrap();
            if a.next_check_at.is_some() || waited > 200 {
                break a;
            }
            waited += 1;
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    };
    assert!(h.fake.retrieved.lock().unwrap().len() > asked_before, "Stripe was asked in the background");
    let expires =
        chrono::DateTime::parse_from_rfc3339(order(&h.app, id).await["expires_at"].as_str().unwrap()).unwrap();
    let next = attempt.next_check_at.expect("scheduled");
    let now = h.app.state.clock.now();
    assert!(
        next == expires.to_utc() + chrono::Duration::minutes(1)
            || (next > now + chrono::Duration::minutes(14) && next <= now + chrono::Duration::minutes(15)),
        "{next} (now {now}, expires {expires})"
    );
    assert!(h
        .app
        .store
        .attempts_to_check(app::domain::payment::Provider::Stripe, now + chrono::Duration::hours(1), now)
        .await
        .unwrap()
        .is_empty());

    // Stripe took the card; its webhook is slow. The page's next refreshes
    // have Stripe asked again, and show the payment once it is applied.
    set_session(&h, &session_id, "complete", "paid", Some("pi_test_card"));
    let mut html = String::new();
    for _ in 0..100 {
        html = page(&h.app, &back).await.1;
        if html.contains(r#"data-testid="payment-received""#) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(html.contains(r#"data-testid="payment-received""#), "{html}");
    assert_eq!(open_charges(&h.app, "P-000002").await, 0);
    let attempt = h.app.store.get_attempt(attempt.id).await.unwrap().unwrap();
    assert_eq!((attempt.status.as_str(), attempt.payment_intent.as_deref()), ("succeeded", Some("pi_test_card")));

    // Then the webhook: nothing more happens.
    let (status, _) =
        deliver(&h.app, &event("evt_slow", "checkout.session.completed", &session_of(&h, &session_id))).await;
    assert_eq!(status, 200);
    let o = order(&h.app, id).await;
    assert_eq!((o["status"].as_str(), moves_to(&o, "succeeded")), (Some("succeeded"), 1));
}

#[tokio::test]
async fn an_oxxo_voucher_shows_stripe_details_and_holds_the_order_until_it_expires() {
    let h = harness().await;
    let (id, session_id, _) = order_and_checkout(&h, "P-000002").await;
    let order_token = token_of(&h.app, id).await;
    // The voucher is valid for three days (Stripe's default).
    let voucher_expiry = h.app.state.clock.now() + chrono::Duration::days(3);
    let session = choose_oxxo(&h, &session_id, voucher_expiry.timestamp());
    // The webhook's session names its PaymentIntent but does not carry the
    // voucher: the portal asks Stripe for it.
    let (status, _) = deliver(&h.app, &event("evt_oxxo_voucher", "checkout.session.completed", &session)).await;
    assert_eq!(status, 200);
    let attempt = h.app.store.attempts_of_order(id).await.unwrap().pop().unwrap();
    assert_eq!(attempt.method.map(|m| m.as_str()), Some("oxxo"));
    let Some(app::domain::payment::Instructions::Oxxo { number, expires_at, url }) = attempt.instructions.clone()
    else {
        panic!("an OXXO voucher: {attempt:?}")
    };
    assert_eq!(number, "12345678901234657890123456789012");
    assert_eq!(expires_at.map(|t| t.timestamp()), Some(voucher_expiry.timestamp()));
    assert_eq!(url.as_deref(), Some(format!("https://payments.stripe.com/oxxo/voucher/pi_test_{session_id}").as_str()));
    let o = order(&h.app, id).await;
    assert_eq!(o["status"], "pending");
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(o["expires_at"].as_str().unwrap()).unwrap().timestamp(),
        voucher_expiry.timestamp(),
        "an OXXO order lives as long as its voucher"
    );

    // The order page, also when back from Checkout: the voucher, not "pay".
    for path in [format!("/orden/{order_token}"), format!("/orden/{order_token}?pago=stripe")] {
        let (_, html) = page(&h.app, &path).await;
        assert!(html.contains(r#"data-method="oxxo""#) && html.contains(&number), "{html}");
        assert!(html.contains(&format!("https://payments.stripe.com/oxxo/voucher/pi_test_{session_id}")));
        assert!(!html.contains(r#"data-testid="pay-online""#) && !html.contains(r#"http-equiv="refresh""#));
    }

    // Two days later the charges are still held: nobody can order them again.
    let later = h.app.on_day(crate::common::today() + chrono::Days::new(2)).await;
    assert_eq!(order(&later, id).await["status"], "pending");
    let (status, _) = later.post_json("/api/v1/orders", &json!({ "account": "P-000002" })).await;
    assert_eq!(status, 409);
    // The cash arrives: paid once.
    set_session(&h, &session_id, "complete", "paid", None);
    let (status, _) = deliver(
        &later,
        &event("evt_oxxo_cash", "checkout.session.async_payment_succeeded", &session_of(&h, &session_id)),
    )
    .await;
    assert_eq!(status, 200);
    let o = order(&later, id).await;
    assert_eq!((o["status"].as_str(), moves_to(&o, "succeeded")), (Some("succeeded"), 1));
}

#[tokio::test]
async fn an_unpaid_voucher_whose_webhook_was_lost_is_failed_by_the_sweep() {
    let h = harness().await;
    let (id, session_id, _) = order_and_checkout(&h, "A-000003").await;
    let expiry = h.app.state.clock.now() + chrono::Duration::days(3);
    let session = choose_oxxo(&h, &session_id, expiry.timestamp());
    deliver(&h.app, &event("evt_v", "checkout.session.completed", &session)).await;
    // The sweep leaves it alone until the voucher's deadline has passed.
    let now = h.app.state.clock.now();
    assert_eq!(app::payments::heal_stripe_attempts(&h.app.state, now + chrono::Duration::hours(2)).await.unwrap(), 0);
    assert_eq!(order(&h.app, id).await["status"], "pending");
    // The voucher ran out unpaid (Stripe cancels the PaymentIntent) and the
    // async_payment_failed webhook never came.
    h.fake.intents.lock().unwrap().get_mut(&format!("pi_test_{session_id}")).unwrap()["status"] = json!("canceled");
    let after = expiry + chrono::Duration::hours(2);
    assert_eq!(app::payments::heal_stripe_attempts(&h.app.state, after).await.unwrap(), 1);
    assert_eq!(order(&h.app, id).await["status"], "failed");
    assert_eq!(open_charges(&h.app, "A-000003").await, 2, "the charges are free again");
}

#[tokio::test]
async fn a_server_killed_between_stripe_and_our_commit_heals_on_restart() {
    let h = harness().await;
    // 1. Killed after recording the session, before the webhook's commit:
    //    Stripe took the card; every delivery of the webhook fails.
    let (paid_id, paid_session, _) = order_and_checkout(&h, "P-000002").await;
    set_session(&h, &paid_session, "complete", "paid", Some("pi_test_killed_1"));

    // 2. Killed between Stripe's answer to "create the session" and
    //    recording its id: the attempt exists, its session id does not.
    let (status, o) = h.app.post_json("/api/v1/orders", &json!({ "account": "A-000003" })).await;
    assert_eq!(status, 201, "{o}");
    let lost_id = crate::common::order_id(&h.app, o["id"].as_str().unwrap()).await;
    let now = h.app.state.clock.now();
    let attempt = h
        .app
        .store
        .start_attempt(
            &app::store::NewAttempt {
                order_id: lost_id,
                provider: app::domain::payment::Provider::Stripe,
                provider_ref: None,
                idempotency_key: "order-lost-before-commit".into(),
                amount: app::domain::money::Centavos(o["total"].as_str().unwrap().replace('.', "").parse().unwrap()),
            },
            now,
        )
        .await
        .unwrap();
    // What the dead process had sent (the same request the sweep repeats).
    let order_row = h.app.store.get_order(lost_id).await.unwrap().unwrap();
    let base = h.app.state.stripe.as_ref().unwrap().api_base.clone().unwrap();
    let lost_session: Value = reqwest::Client::new()
        .post(format!("{base}/v1/checkout/sessions"))
        .header("idempotency-key", "order-lost-before-commit")
        .form(&[
            ("mode", "payment".to_string()),
            ("currency", "mxn".into()),
            ("line_items[0][price_data][currency]", "mxn".into()),
            ("line_items[0][price_data][unit_amount]", order_row.total.0.to_string()),
            ("line_items[0][quantity]", "1".into()),
            ("allowed_payment_method_types[0]", "card".into()),
            ("allowed_payment_method_types[1]", "oxxo".into()),
            ("metadata[order_id]", lost_id.to_string()),
            ("metadata[attempt_id]", attempt.id.to_string()),
            ("metadata[reference]", order_row.reference.clone()),
            ("client_reference_id", order_row.reference.clone()),
            ("metadata[order_token]", order_row.token.to_string()),
            ("success_url", format!("https://pagos.loreto.gob.mx/orden/{}?pago=stripe", order_row.token)),
            ("cancel_url", format!("https://pagos.loreto.gob.mx/orden/{}", order_row.token)),
            ("expires_at", order_row.expires_at.timestamp().to_string()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let lost_session = lost_session["id"].as_str().unwrap().to_string();
    set_session(&h, &lost_session, "complete", "paid", Some("pi_test_killed_2"));
    assert_eq!(h.fake.created.lock().unwrap().len(), 2);

    h.app.kill().await;

    // Restarted the next morning: the start-up sweep asks Stripe and applies
    // both, once.
    let restarted = h.app.on_day(crate::common::today() + chrono::Days::new(1)).await;
    for id in [paid_id, lost_id] {
        let o = until_status(&restarted, id, "succeeded").await;
        assert_eq!(moves_to(&o, "succeeded"), 1, "{o}");
    }
    assert_eq!(open_charges(&restarted, "P-000002").await, 0);
    assert_eq!(open_charges(&restarted, "A-000003").await, 0);
    let healed = restarted.store.get_attempt(attempt.id).await.unwrap().unwrap();
    assert_eq!(healed.provider_ref.as_deref(), Some(lost_session.as_str()), "the session id was recovered");
    assert_eq!(h.fake.created.lock().unwrap().len(), 2, "the repeated create was answered from the idempotency key");
    // The late webhooks change nothing.
    for (n, s) in [&paid_session, &lost_session].into_iter().enumerate() {
        let (status, _) = deliver(
            &restarted,
            &event(&format!("evt_after_restart_{n}"), "checkout.session.completed", &session_of(&h, s)),
        )
        .await;
        assert_eq!(status, 200);
    }
    for id in [paid_id, lost_id] {
        assert_eq!(moves_to(&order(&restarted, id).await, "succeeded"), 1);
    }
}

#[tokio::test]
async fn overpayments_are_refunded_once_when_configured() {
    let h = harness_with(|c| c.refund_overpayments = true).await;
    let (id, session_id, _) = order_and_checkout(&h, "P-000002").await;
    // Out of order: "expired" first, then the card payment (which Stripe
    // took before the session expired).
    let expired = set_session(&h, &session_id, "expired", "unpaid", None);
    deliver(&h.app, &event("evt_exp", "checkout.session.expired", &expired)).await;
    assert_eq!(order(&h.app, id).await["status"], "expired");
    let paid = set_session(&h, &session_id, "complete", "paid", Some("pi_test_over"));
    let (status, body) = deliver(&h.app, &event("evt_paid_late", "checkout.session.completed", &paid)).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("overpayment")), "{body}");
    let over = h.app.store.overpayments_of_order(id).await.unwrap();
    assert_eq!(over.len(), 1);
    assert_eq!(
        (over[0].refund, over[0].refund_ref.as_deref()),
        (app::store::RefundStatus::Refunded, Some("re_test_recauda0001"))
    );
    let refunds = h.fake.refunds.lock().unwrap().clone();
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0].param("payment_intent"), Some("pi_test_over"));
    assert_eq!(refunds[0].param("amount"), Some("64000"));
    assert_eq!(refunds[0].param("reason"), Some("duplicate"));
    assert_eq!(refunds[0].idempotency_key, Some(format!("recauda-refund-overpayment-{}", over[0].id)));
    // Delivered again under another id, and a sweep: no second refund.
    deliver(&h.app, &event("evt_paid_late_again", "checkout.session.completed", &paid)).await;
    app::payments::heal_stripe_attempts(&h.app.state, h.app.state.clock.now()).await.unwrap();
    assert_eq!(h.fake.refunds.lock().unwrap().len(), 1);
    assert_eq!(open_charges(&h.app, "P-000002").await, 1, "an overpayment pays no charge");
    // Stripe then reports our own refund (`charge.refunded` of the
    // overpaid payment): recorded, and nothing else changes.
    let (_, ack) = deliver(
        &h.app,
        &event("evt_over_refunded", "charge.refunded", &charge("ch_o", "pi_test_over", 64_000, 64_000)),
    )
    .await;
    assert_eq!(ack["status"], "applied");
    assert_eq!(order(&h.app, id).await["status"], "expired");
    assert_eq!(open_charges(&h.app, "P-000002").await, 1);

    // Stripe down at the time: recorded as failed, refunded by the next sweep.
    *h.fake.refuse_refunds.lock().unwrap() = true;
    let (id, session_id, _) = order_and_checkout(&h, "A-000003").await;
    deliver(
        &h.app,
        &event("evt_exp_2", "checkout.session.expired", &set_session(&h, &session_id, "expired", "unpaid", None)),
    )
    .await;
    let paid = set_session(&h, &session_id, "complete", "paid", Some("pi_test_over_2"));
    deliver(&h.app, &event("evt_paid_late_2", "checkout.session.completed", &paid)).await;
    let over = h.app.store.overpayments_of_order(id).await.unwrap();
    assert_eq!(over[0].refund, app::store::RefundStatus::RefundFailed);
    assert!(over[0].refund_error.as_deref().unwrap().contains("Stripe"), "{over:?}");
    *h.fake.refuse_refunds.lock().unwrap() = false;
    app::payments::heal_stripe_attempts(&h.app.state, h.app.state.clock.now()).await.unwrap();
    let over = h.app.store.overpayments_of_order(id).await.unwrap();
    assert_eq!(over[0].refund, app::store::RefundStatus::Refunded);
    assert_eq!(
        h.fake.refunds.lock().unwrap().iter().filter(|r| r.param("payment_intent") == Some("pi_test_over_2")).count(),
        2,
        "one refused, one done"
    );
}

#[tokio::test]
async fn without_the_setting_overpayments_wait_to_be_refunded_by_hand() {
    let h = harness().await;
    let (id, session_id, _) = order_and_checkout(&h, "P-000002").await;
    deliver(
        &h.app,
        &event("evt_exp", "checkout.session.expired", &set_session(&h, &session_id, "expired", "unpaid", None)),
    )
    .await;
    let paid = set_session(&h, &session_id, "complete", "paid", Some("pi_test_manual"));
    deliver(&h.app, &event("evt_paid_late", "checkout.session.completed", &paid)).await;
    app::payments::heal_stripe_attempts(&h.app.state, h.app.state.clock.now()).await.unwrap();
    let over = h.app.store.overpayments_of_order(id).await.unwrap();
    assert_eq!((over.len(), over[0].refund), (1, app::store::RefundStatus::ToRefund));
    assert!(h.fake.refunds.lock().unwrap().is_empty());
}

#[tokio::test]
async fn spei_transfers_when_configured() {
    let h = harness_with(|c| c.spei = true).await;
    let (id, session_id, _) = order_and_checkout(&h, "P-000002").await;
    let created = h.fake.created.lock().unwrap()[0].clone();
    let methods: Vec<&str> = created
        .params
        .iter()
        .filter(|(k, _)| k.starts_with("allowed_payment_method_types"))
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(methods, ["card", "oxxo", "customer_balance"]);
    assert_eq!(created.param("payment_method_options[customer_balance][funding_type]"), Some("bank_transfer"));
    assert_eq!(
        created.param("payment_method_options[customer_balance][bank_transfer][type]"),
        Some("mx_bank_transfer")
    );
    assert_eq!(created.param("customer_creation"), Some("always"));

    // The citizen picks SPEI: Stripe shows a CLABE and waits for the transfer.
    let pi_id = "pi_test_spei";
    let mut pi = intent_fixture(pi_id, "requires_action", 64_000);
    pi["payment_method_types"] = json!(["customer_balance"]);
    pi["next_action"] = json!({
        "type": "display_bank_transfer_instructions",
        "display_bank_transfer_instructions": {
            "amount_remaining": 64_000,
            "currency": "mxn",
            "financial_addresses": [{
                "type": "spei",
                "supported_networks": ["spei"],
                "spei": {
                    "account_holder_address": {"city": null, "country": "MX", "line1": null, "line2": null, "postal_code": null, "state": null},
                    "account_holder_name": "Municipio de Loreto",
                    "bank_address": {"city": null, "country": "MX", "line1": null, "line2": null, "postal_code": null, "state": null},
                    "bank_code": "002",
                    "bank_name": "BANAMEX",
                    "clabe": "002180650612345670"
                }
            }],
            "hosted_instructions_url": "https://payments.stripe.com/bank_transfers/instructions/test",
            "reference": "4M5HGS",
            "type": "mx_bank_transfer"
        }
    });
    h.fake.intents.lock().unwrap().insert(pi_id.into(), pi);
    let session = set_session(&h, &session_id, "complete", "unpaid", Some(pi_id));
    deliver(&h.app, &event("evt_spei_1", "checkout.session.completed", &session)).await;
    let attempt = h.app.store.attempts_of_order(id).await.unwrap().pop().unwrap();
    assert_eq!(attempt.method.map(|m| m.as_str()), Some("spei"));
    let order_token = token_of(&h.app, id).await;
    let (_, html) = page(&h.app, &format!("/orden/{order_token}")).await;
    assert!(html.contains(r#"data-method="spei""#), "{html}");
    for shown in ["002180650612345670", "BANAMEX", "4M5HGS", "$640.00"] {
        assert!(html.contains(shown), "{shown} in {html}");
    }
    // The transfer arrives.
    let paid = set_session(&h, &session_id, "complete", "paid", None);
    deliver(&h.app, &event("evt_spei_2", "checkout.session.async_payment_succeeded", &paid)).await;
    let o = order(&h.app, id).await;
    assert_eq!((o["status"].as_str(), moves_to(&o, "succeeded")), (Some("succeeded"), 1));
    let attempt = h.app.store.get_attempt(attempt.id).await.unwrap().unwrap();
    assert_eq!((attempt.status.as_str(), attempt.method.map(|m| m.as_str())), ("succeeded", Some("spei")));
}

/// An order for every open charge of `account` (API): its token and store id.
async fn new_order(h: &Harness, account: &str) -> (String, i64) {
    let (status, order) = h.app.post_json("/api/v1/orders", &json!({ "account": account })).await;
    assert_eq!(status, 201, "{order}");
    let token = order["id"].as_str().unwrap().to_string();
    let id = crate::common::order_id(&h.app, &token).await;
    (token, id)
}

/// Issue 9, defect 2: a session Stripe refuses (a 4xx: `expires_at` too
/// soon, an amount under its minimum, a method not enabled) left the
/// attempt pending and the charges held for good.
#[tokio::test]
async fn a_checkout_stripe_refuses_fails_the_attempt_and_frees_the_charges_at_once() {
    let h = harness().await;
    let (token, id) = new_order(&h, "P-000002").await;
    h.fake.create_failures.lock().unwrap().push_back(400);
    let (status, body) = h.app.post_json(&format!("/api/v1/orders/{token}/checkout"), &json!({})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (502, Some("provider_refused")), "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("sus adeudos quedaron libres"), "{body}");
    assert_eq!(*h.fake.create_calls.lock().unwrap(), 1, "a refusal is not retried");
    let o = order(&h.app, id).await;
    assert_eq!(o["status"], "failed", "{o}");
    let attempt = h.app.store.attempts_of_order(id).await.unwrap().pop().unwrap();
    assert_eq!(attempt.status.as_str(), "failed");
    // The charges are free: a new order takes them (no 409), and it pays.
    let (status, order2) = h.app.post_json("/api/v1/orders", &json!({ "account": "P-000002" })).await;
    assert_eq!(status, 201, "{order2}");
    let token2 = order2["id"].as_str().unwrap();
    let (status, c) = h.app.post_json(&format!("/api/v1/orders/{token2}/checkout"), &json!({})).await;
    assert_eq!(status, 201, "{c}");

    // The same through the form: the Spanish page, inside the site layout.
    let (token3, _) = {
        let (_, o) = h.app.post_json("/api/v1/orders", &json!({ "account": "A-000003" })).await;
        (o["id"].as_str().unwrap().to_string(), ())
    };
    h.fake.create_failures.lock().unwrap().push_back(400);
    let r = crate::common::post_form(&h.app, &format!("/orden/{token3}/pagar"), &[]).await;
    assert_eq!(r.status().as_u16(), 502);
    let html = r.text().await.unwrap();
    assert!(html.contains("No se cobró nada") && html.contains("<header"), "{html}");
}

/// A timeout or a 5xx is retried with backoff (the same idempotency key);
/// pressing "Pagar" again resumes the attempt; with Stripe unreachable for
/// the grace period the sweep abandons it and frees the charges.
#[tokio::test]
async fn stripe_down_is_retried_resumed_and_finally_abandoned() {
    let h = harness().await;
    // Two transient failures, then Stripe answers: one checkout, three calls.
    let (token, id) = new_order(&h, "P-000002").await;
    h.fake.create_failures.lock().unwrap().extend([500, 503]);
    let (status, c) = h.app.post_json(&format!("/api/v1/orders/{token}/checkout"), &json!({})).await;
    assert_eq!(status, 201, "{c}");
    assert_eq!(*h.fake.create_calls.lock().unwrap(), 3);
    let keys: Vec<_> = h.fake.created.lock().unwrap().iter().map(|r| r.idempotency_key.clone()).collect();
    assert_eq!(keys.len(), 1);

    // Stripe down for longer: 503 provider_unavailable, the order still
    // pending, its attempt without a session...
    let (token, id2) = new_order(&h, "A-000003").await;
    *h.fake.down.lock().unwrap() = true;
    let (status, body) = h.app.post_json(&format!("/api/v1/orders/{token}/checkout"), &json!({})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (503, Some("provider_unavailable")), "{body}");
    let attempt = h.app.store.attempts_of_order(id2).await.unwrap().pop().unwrap();
    assert_eq!((attempt.status.as_str(), attempt.provider_ref.as_deref()), ("pending", None));
    // ... back up: "Pagar" again resumes the same attempt with the same key.
    *h.fake.down.lock().unwrap() = false;
    let (status, c) = h.app.post_json(&format!("/api/v1/orders/{token}/checkout"), &json!({})).await;
    assert_eq!(status, 201, "{c}");
    assert_eq!(c["attempt_id"].as_i64(), Some(attempt.id));
    assert_eq!(
        h.fake.created.lock().unwrap().last().unwrap().idempotency_key.as_deref(),
        Some(attempt.idempotency_key.as_str())
    );

    // A third order, Stripe down for good: the sweep keeps trying during
    // the grace period, then abandons the attempt; the charges are free.
    let (_, _) = (id, id2);
    let (token, id3) = new_order(&h, "LC-000001").await;
    *h.fake.down.lock().unwrap() = true;
    let (status, _) = h.app.post_json(&format!("/api/v1/orders/{token}/checkout"), &json!({})).await;
    assert_eq!(status, 503);
    let now = h.app.state.clock.now();
    app::payments::heal_stripe_attempts(&h.app.state, now + chrono::Duration::minutes(20)).await.unwrap();
    assert_eq!(order(&h.app, id3).await["status"], "pending", "within the grace period");
    let later = now + chrono::Duration::minutes(app::payments::ABANDON_AFTER_MINUTES + 1);
    assert_eq!(app::payments::heal_stripe_attempts(&h.app.state, later).await.unwrap(), 1);
    assert_eq!(order(&h.app, id3).await["status"], "failed");
    let attempt = h.app.store.attempts_of_order(id3).await.unwrap().pop().unwrap();
    assert_eq!(attempt.status.as_str(), "failed");
    let (status, body) = h.app.post_json("/api/v1/orders", &json!({ "account": "LC-000001" })).await;
    assert_eq!(status, 201, "the charges are free again: {body}");
}

/// Stripe wants a session to live at least 30 minutes: a checkout late in
/// the order's day (after 23:30) asks for 31, not for what is left.
#[tokio::test]
async fn a_late_checkout_asks_stripe_for_at_least_31_minutes() {
    let h = harness().await;
    let (token, id) = new_order(&h, "P-000002").await;
    let now = h.app.state.clock.now();
    let soon = (now + chrono::Duration::minutes(10)).format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
    h.app.sql(&format!("UPDATE payment_orders SET expires_at = '{soon}' WHERE id = {id}")).await;
    let (status, c) = h.app.post_json(&format!("/api/v1/orders/{token}/checkout"), &json!({})).await;
    assert_eq!(status, 201, "{c}");
    let sent: i64 = h.fake.created.lock().unwrap()[0].param("expires_at").unwrap().parse().unwrap();
    let attempt = h.app.store.attempts_of_order(id).await.unwrap().pop().unwrap();
    assert_eq!(sent, (attempt.created_at + chrono::Duration::minutes(31)).timestamp());
    assert!(sent >= (now + chrono::Duration::minutes(30)).timestamp());
}

/// Totals under Stripe's MXN minimum are refused before any attempt; the
/// formato de pago still works for the window.
#[tokio::test]
async fn totals_under_the_online_minimum_are_refused_before_any_attempt() {
    let h = harness().await;
    let (token, id) = new_order(&h, "P-000002").await;
    h.app.sql(&format!("UPDATE payment_orders SET total_centavos = 999 WHERE id = {id}")).await;
    let (status, body) = h.app.post_json(&format!("/api/v1/orders/{token}/checkout"), &json!({})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("below_online_minimum")), "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("$10.00"), "{body}");
    assert_eq!(*h.fake.create_calls.lock().unwrap(), 0);
    assert!(h.app.store.attempts_of_order(id).await.unwrap().is_empty());
    assert_eq!(order(&h.app, id).await["status"], "created");
    let (status, html) = page(&h.app, &format!("/orden/{token}")).await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"data-testid="below-online-minimum""#) && html.contains("$10.00"), "{html}");
    assert!(!html.contains(r#"data-testid="pay-online""#));
    assert!(html.contains(r#"data-testid="order-reference""#), "the formato de pago is still there");
}

/// Pays `account`'s order by card through Checkout and the signed webhook,
/// with PaymentIntent `pi`: the order's store id and the receipt's verify path.
pub(crate) async fn paid_by_card(h: &Harness, account: &str, pi: &str) -> (i64, String) {
    let (id, session_id, _) = order_and_checkout(h, account).await;
    let session = set_session(h, &session_id, "complete", "paid", Some(pi));
    let (status, body) =
        deliver(&h.app, &event(&format!("evt_paid_{pi}"), "checkout.session.completed", &session)).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("applied")), "{body}");
    let o = order(&h.app, id).await;
    assert_eq!(o["status"], "succeeded");
    let verify = o["receipt"]["verify_url"].as_str().unwrap().replace("https://pagos.loreto.gob.mx", "");
    (id, verify)
}

/// Stripe's example charge as this payment's, refunded `refunded` of `amount`.
fn charge(id: &str, pi: &str, amount: i64, refunded: i64) -> Value {
    let mut c = fixtures()["resources"]["charge"].clone();
    c["id"] = json!(id);
    c["payment_intent"] = json!(pi);
    c["amount"] = json!(amount);
    c["amount_captured"] = json!(amount);
    c["amount_refunded"] = json!(refunded);
    c["refunded"] = json!(refunded >= amount);
    c["currency"] = json!("mxn");
    c
}

/// A dispute object as Stripe sends it (`charge.dispute.*`).
fn dispute(id: &str, pi: &str, amount: i64, status: &str) -> Value {
    json!({
        "id": id, "object": "dispute", "amount": amount, "currency": "mxn",
        "charge": format!("ch_of_{pi}"), "payment_intent": pi,
        "reason": "fraudulent", "status": status, "livemode": false
    })
}

/// The receipt's verdict as the API gives it (the verify path of its QR).
async fn verdict(app: &TestApp, verify_path: &str) -> Value {
    let (folio_part, s) = verify_path.strip_prefix("/v/").unwrap().split_once("?s=").unwrap();
    app.get_json(&format!("/api/v1/receipts/{folio_part}/verify?s={s}")).await.1
}

/// Issue 9, defect 6: a refund or a lost dispute left a receipt saying
/// "auténtico" for money the treasury no longer has.
#[tokio::test]
async fn a_full_refund_cancels_the_receipt_and_the_charges_are_owed_again() {
    let h = harness().await;
    let (id, verify) = paid_by_card(&h, "P-000002", "pi_refund_1").await;
    assert_eq!(open_charges(&h.app, "P-000002").await, 0);
    assert_eq!(verdict(&h.app, &verify).await["verdict"], "authentic");
    let amount = order(&h.app, id).await["total"].as_str().unwrap().replace('.', "").parse::<i64>().unwrap();

    // A partial refund first: recorded for the treasury, nothing else.
    let body = event("evt_partial", "charge.refunded", &charge("ch_1", "pi_refund_1", amount, 10_000));
    let (status, ack) = deliver(&h.app, &body).await;
    assert_eq!((status, ack["status"].as_str()), (200, Some("applied")), "{ack}");
    assert_eq!(verdict(&h.app, &verify).await["verdict"], "authentic");
    assert_eq!(order(&h.app, id).await["status"], "succeeded");
    assert_eq!(open_charges(&h.app, "P-000002").await, 0);

    // Then the rest: the receipt is cancelled with the reason, the order
    // refunded, the charge owed again.
    let body = event("evt_full", "charge.refunded", &charge("ch_1", "pi_refund_1", amount, amount));
    let (status, ack) = deliver(&h.app, &body).await;
    assert_eq!((status, ack["status"].as_str()), (200, Some("applied")), "{ack}");
    let v = verdict(&h.app, &verify).await;
    assert_eq!(v["verdict"], "cancelled", "{v}");
    assert!(v["cancel_reason"].as_str().unwrap().contains("reembolsado"), "{v}");
    let o = order(&h.app, id).await;
    assert_eq!(o["status"], "refunded", "{o}");
    assert_eq!(open_charges(&h.app, "P-000002").await, 1, "owed again");
    let (_, html) = page(&h.app, &verify).await;
    assert!(html.contains("Recibo cancelado") && html.contains("reembolsado"), "{html}");
    // A redelivery changes nothing; the folio is never reused.
    let (_, ack) = deliver(&h.app, &body).await;
    assert_eq!(ack["status"], "duplicate");
    let listed = h.app.store.adjustments().await.unwrap();
    let kinds: Vec<&str> = listed.iter().map(|a| a.kind.as_str()).collect();
    assert_eq!(kinds, ["partial_refund", "refund"]);
    assert_eq!(listed[0].amount.0, 10_000);
    assert_eq!(listed[1].receipt_status.as_deref(), Some("cancelled"));
    // The charge can be paid again: a new receipt, a new folio.
    let (_, verify2) = paid_by_card(&h, "P-000002", "pi_refund_2").await;
    assert!(verify2.starts_with("/v/A-2026-000002?"), "{verify2}");
    // A refund of a payment that is not ours: ignored.
    let (_, ack) =
        deliver(&h.app, &event("evt_other", "charge.refunded", &charge("ch_x", "pi_elsewhere", 500, 500))).await;
    assert_eq!(ack["status"], "ignored");
}

#[tokio::test]
async fn disputes_are_recorded_and_a_lost_one_cancels_the_receipt() {
    let h = harness().await;
    let (id, verify) = paid_by_card(&h, "A-000003", "pi_dispute_1").await;
    let amount = order(&h.app, id).await["total"].as_str().unwrap().replace('.', "").parse::<i64>().unwrap();
    let (_, ack) = deliver(
        &h.app,
        &event("evt_dp_open", "charge.dispute.created", &dispute("dp_1", "pi_dispute_1", amount, "needs_response")),
    )
    .await;
    assert_eq!(ack["status"], "applied");
    // Open: listed, the receipt still stands.
    assert_eq!(verdict(&h.app, &verify).await["verdict"], "authentic");
    assert_eq!(h.app.store.adjustments().await.unwrap()[0].kind.as_str(), "dispute_opened");
    // Lost: cancelled, owed again.
    let (_, ack) = deliver(
        &h.app,
        &event("evt_dp_lost", "charge.dispute.closed", &dispute("dp_1", "pi_dispute_1", amount, "lost")),
    )
    .await;
    assert_eq!(ack["status"], "applied");
    let v = verdict(&h.app, &verify).await;
    assert_eq!(v["verdict"], "cancelled");
    assert!(v["cancel_reason"].as_str().unwrap().contains("Contracargo perdido"), "{v}");
    assert_eq!(order(&h.app, id).await["status"], "refunded");
    assert_eq!(open_charges(&h.app, "A-000003").await, 2);

    // A dispute won: recorded, the receipt stays valid.
    let (id2, verify2) = paid_by_card(&h, "P-000002", "pi_dispute_2").await;
    for (evt, kind, status) in
        [("evt_dp2_open", "charge.dispute.created", "needs_response"), ("evt_dp2_won", "charge.dispute.closed", "won")]
    {
        let (_, ack) = deliver(&h.app, &event(evt, kind, &dispute("dp_2", "pi_dispute_2", 100, status))).await;
        assert_eq!(ack["status"], "applied");
    }
    assert_eq!(verdict(&h.app, &verify2).await["verdict"], "authentic");
    assert_eq!(order(&h.app, id2).await["status"], "succeeded");
    let kinds: Vec<String> = h.app.store.adjustments().await.unwrap().iter().map(|a| a.kind.to_string()).collect();
    assert_eq!(kinds, ["dispute_opened", "dispute_lost", "dispute_opened", "dispute_won"]);
}

/// Rolling the endpoint's secret: while both are configured, events signed
/// with either are applied; the old one alone is refused afterwards.
#[tokio::test]
async fn webhooks_signed_with_the_previous_secret_are_accepted_during_a_rotation() {
    let h = harness_with(|c| {
        c.webhook_secret = Some(Secret::new("whsec_rolled_new"));
        c.webhook_secret_previous = Some(Secret::new(WEBHOOK_SECRET));
    })
    .await;
    let (id, session_id, _) = order_and_checkout(&h, "P-000002").await;
    let paid =
        event("evt_rotated", "checkout.session.completed", &with(&session_of(&h, &session_id), "complete", "paid"));
    let now = chrono::Utc::now().timestamp();
    let (status, body) = deliver_signed(&h.app, &paid, &sign("whsec_other", now, paid.as_bytes())).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = deliver_signed(&h.app, &paid, &sign(WEBHOOK_SECRET, now, paid.as_bytes())).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("applied")), "the previous secret: {body}");
    let (status, body) = deliver_signed(&h.app, &paid, &sign("whsec_rolled_new", now, paid.as_bytes())).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("duplicate")), "the new secret: {body}");
    assert_eq!(order(&h.app, id).await["status"], "succeeded");

    let after = harness_with(|c| c.webhook_secret = Some(Secret::new("whsec_rolled_new"))).await;
    let (status, _) = deliver_signed(&after.app, &paid, &sign(WEBHOOK_SECRET, now, paid.as_bytes())).await;
    assert_eq!(status, 400, "once the rotation is over, the old secret is refused");
}

/// The webhook endpoint is the one route anyone on the internet can post
/// to: hostile `Stripe-Signature` headers, bodies at the size limit and
/// arbitrary JSON behind a valid signature are answered 200, 400 or 503
/// (never a panic, never a 500), always in the JSON shape, and change
/// nothing.
#[tokio::test]
async fn fuzz_the_webhook_surface_answers_only_200_400_or_503() {
    let h = harness().await;
    let (id, session_id, _) = order_and_checkout(&h, "P-000002").await;
    let paid =
        event("evt_fuzz_paid", "checkout.session.completed", &with(&session_of(&h, &session_id), "complete", "paid"));
    let now = chrono::Utc::now().timestamp();
    let good = sign(WEBHOOK_SECRET, now, paid.as_bytes());
    let v1 = good.split_once("v1=").unwrap().1.to_string();
    let mut headers = vec![
        format!("t={now},t={now},v1={v1}"),
        format!("t={now},{}v1={v1}", "v1=00,".repeat(5000)),
        format!("t={},v1={v1}", i64::MIN),
        format!("t={},v1={v1}", i64::MAX),
        sign(WEBHOOK_SECRET, i64::MIN, paid.as_bytes()),
        sign(WEBHOOK_SECRET, i64::MAX, paid.as_bytes()),
        format!("t=99999999999999999999999,v1={v1}"),
        format!("t={now},v1={}", "zz".repeat(32)),
        format!("t={now},v1={}", "é".repeat(32)),
        format!("t={now},v1="),
        format!("t={now}"),
        format!("v1={v1}"),
        "t=,v1=,=,,,".to_string(),
        ",".repeat(4000),
        "t".repeat(4000),
    ];
    headers.push(format!("{good},{}", "v0=1,".repeat(1000)));
    for header in &headers {
        let (status, body) = deliver_signed(&h.app, &paid, header).await;
        assert_eq!(status, 400, "{}: {body}", &header[..header.len().min(80)]);
        assert_eq!(body["error"]["code"], "bad_signature", "{body}");
    }
    // A non-UTF-8 header value.
    let r = h
        .app
        .client
        .post(format!("{}/api/v1/stripe/webhook", h.app.base))
        .header("stripe-signature", axum::http::HeaderValue::from_bytes(b"t=1,v1=\xff\xfe").unwrap())
        .body(paid.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);

    // Bodies at the size limit, validly signed: not events, refused 400.
    let limit = server::security::MAX_BODY_BYTES;
    for size in [limit - 1, limit] {
        let padded = format!("{{\"pad\":\"{}\"}}", "x".repeat(size - 10));
        assert_eq!(padded.len(), size);
        let (status, body) = deliver(&h.app, &padded).await;
        assert!(status == 400 || status == 200, "{size} bytes: {status} {body}");
        assert!(body["error"]["code"].is_string() || body["received"] == true, "{body}");
    }
    // One byte over the limit: 413, in the JSON shape.
    let over = format!("{{\"pad\":\"{}\"}}", "x".repeat(limit + 1 - 10));
    let (status, body) = deliver(&h.app, &over).await;
    assert_eq!((status, body["error"]["code"].as_str()), (413, Some("payload_too_large")), "{body}");

    // Arbitrary JSON behind a valid signature.
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        "[a-z_.]{0,12}".prop_map(Value::from),
        prop::sample::select(vec![
            "checkout.session.completed",
            "checkout.session.async_payment_succeeded",
            "checkout.session.expired",
            "charge.refunded",
            "charge.dispute.closed",
            "paid",
            "complete",
            "mxn",
            "cs_test_x",
        ])
        .prop_map(Value::from),
    ];
    let keys = prop::sample::select(vec![
        "id",
        "type",
        "object",
        "data",
        "status",
        "payment_status",
        "amount_total",
        "currency",
        "metadata",
        "order_token",
        "attempt_id",
        "payment_intent",
        "amount_refunded",
        "charge",
        "amount",
        "created",
        "x",
    ]);
    let value = leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(keys.clone(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        ]
    });
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(64u32).min(2000);
    let mut runner = TestRunner::new(Config { cases, ..Config::default() });
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    runner
        .run(&value, |v| {
            tx.send(v.to_string()).unwrap();
            Ok(())
        })
        .unwrap();
    drop(tx);
    let mut answered = 0;
    for body in rx {
        let (status, answer) = deliver(&h.app, &body).await;
        assert!(matches!(status, 200 | 400 | 503), "{status} for {body}: {answer}");
        assert!(answer["error"]["code"].is_string() || answer["received"] == true, "{body}: {answer}");
        answered += 1;
    }
    assert!(answered >= cases as usize / 2, "{answered} bodies delivered");
    assert_eq!(order(&h.app, id).await["status"], "pending", "nothing was paid by garbage");
    assert_eq!(open_charges(&h.app, "P-000002").await, 1);
}

/// A slow Stripe: a sweep stops asking when its time budget is spent, and
/// the next sweep starts with the attempts that were not asked yet.
#[tokio::test]
async fn a_sweep_keeps_to_its_time_budget_and_the_next_one_takes_the_rest() {
    let h = harness().await;
    let mut orders = Vec::new();
    for account in ["P-000001", "P-000002", "A-000003"] {
        let (id, session_id, _) = order_and_checkout(&h, account).await;
        let mut sessions = h.fake.sessions.lock().unwrap();
        let s = sessions.get_mut(&session_id).unwrap();
        s["status"] = json!("complete");
        s["payment_status"] = json!("paid");
        orders.push(id);
    }
    *h.fake.retrieve_delay.lock().unwrap() = std::time::Duration::from_millis(400);
    let later = h.app.state.clock.now() + chrono::Duration::minutes(16);
    let budget = std::time::Duration::from_millis(300);
    let started = std::time::Instant::now();
    let healed = app::payments::heal_stripe_attempts_within(&h.app.state, later, budget).await.unwrap();
    assert_eq!(healed, 1, "the budget was spent after the first question");
    assert!(started.elapsed() < std::time::Duration::from_secs(3), "{:?}", started.elapsed());
    assert_eq!(h.fake.retrieved.lock().unwrap().len(), 1);
    let mut succeeded = 0;
    for id in &orders {
        succeeded += usize::from(order(&h.app, *id).await["status"] == "succeeded");
    }
    assert_eq!(succeeded, 1);
    // The next sweeps ask about the others, never the settled one again.
    assert_eq!(app::payments::heal_stripe_attempts_within(&h.app.state, later, budget).await.unwrap(), 1);
    assert_eq!(app::payments::heal_stripe_attempts(&h.app.state, later).await.unwrap(), 1);
    let retrieved = h.fake.retrieved.lock().unwrap().clone();
    assert_eq!(retrieved.len(), 3, "{retrieved:?}");
    let mut distinct = retrieved.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 3, "each attempt asked about once: {retrieved:?}");
    for id in &orders {
        assert_eq!(order(&h.app, *id).await["status"], "succeeded");
    }
}

/// The receipt is dated when the money was taken, not when we learnt of
/// it: an OXXO voucher paid at 23:50 on 31 December, whose event is
/// processed on 1 January (a late webhook), or whose charge the sweep finds
/// on 2 January, gets December's date and a folio of December's fiscal
/// year.
#[tokio::test]
async fn a_receipt_is_dated_when_the_money_was_taken_not_when_it_was_processed() {
    let h = harness().await;
    let day = |m, d, y| chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap();
    let tz: chrono_tz::Tz = "America/Mazatlan".parse().unwrap();
    let new_years_eve = chrono::TimeZone::from_local_datetime(&tz, &day(12, 31, 2026).and_hms_opt(23, 50, 0).unwrap())
        .unwrap()
        .with_timezone(&chrono::Utc);
    let dec = Harness { app: h.app.on_day(day(12, 31, 2026)).await, fake: h.fake.clone() };
    let jan = Harness { app: h.app.on_day(day(1, 1, 2027)).await, fake: h.fake.clone() };

    // Webhook path: the event was created on 31 December, delivered on 1 January.
    let (id, session_id, _) = order_and_checkout(&dec, "P-000002").await;
    let session = choose_oxxo(&dec, &session_id, new_years_eve.timestamp() + 86_400);
    let (status, _) = deliver(&dec.app, &event("evt_nye_1", "checkout.session.completed", &session)).await;
    assert_eq!(status, 200);
    let mut paid: Value = serde_json::from_str(&event(
        "evt_nye_2",
        "checkout.session.async_payment_succeeded",
        &with(&session, "complete", "paid"),
    ))
    .unwrap();
    paid["created"] = json!(new_years_eve.timestamp());
    let (status, body) = deliver(&jan.app, &paid.to_string()).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("applied")), "{body}");
    let receipt = jan.app.store.receipt_of_order(id).await.unwrap().expect("a receipt");
    assert_eq!(receipt.issued_on, day(12, 31, 2026));
    assert_eq!(receipt.folio.to_string(), "A-2026-000001", "December's fiscal year");

    // Sweep path: the webhook never came; on 2 January the sweep finds the
    // charge made at 23:50 on 31 December.
    let (id, session_id, _) = order_and_checkout(&dec, "A-000003").await;
    let session = choose_oxxo(&dec, &session_id, new_years_eve.timestamp() + 86_400);
    deliver(&dec.app, &event("evt_nye_3", "checkout.session.completed", &session)).await;
    let pi_id = format!("pi_test_{session_id}");
    let mut charge = fixtures()["resources"]["charge"].clone();
    charge["id"] = json!("ch_test_nye");
    charge["created"] = json!(new_years_eve.timestamp());
    charge["payment_intent"] = json!(pi_id);
    h.fake.charges.lock().unwrap().insert("ch_test_nye".into(), charge);
    {
        let mut intents = h.fake.intents.lock().unwrap();
        let pi = intents.get_mut(&pi_id).unwrap();
        pi["status"] = json!("succeeded");
        pi["next_action"] = Value::Null;
        pi["latest_charge"] = json!("ch_test_nye");
    }
    set_session(&dec, &session_id, "complete", "paid", Some(&pi_id));
    let second = Harness { app: h.app.on_day(day(1, 2, 2027)).await, fake: h.fake.clone() };
    let later = second.app.state.clock.now() + chrono::Duration::hours(2);
    // Healed by this sweep, or by the one each server runs as it starts
    // (all four share the database): either way it is done on return.
    let healed = app::payments::heal_stripe_attempts(&second.app.state, later).await.unwrap();
    assert!(healed <= 1, "{healed}");
    let receipt = second.app.store.receipt_of_order(id).await.unwrap().expect("a receipt");
    assert_eq!(receipt.issued_on, day(12, 31, 2026));
    assert_eq!(receipt.folio.to_string(), "A-2026-000002");

    // A payment made and reported in the new year starts its numbering.
    let (id, session_id, _) = order_and_checkout(&jan, "P-000001").await;
    let (status, _) = deliver(
        &jan.app,
        &event("evt_jan_1", "checkout.session.completed", &with(&session_of(&jan, &session_id), "complete", "paid")),
    )
    .await;
    assert_eq!(status, 200);
    let receipt = jan.app.store.receipt_of_order(id).await.unwrap().expect("a receipt");
    assert_eq!(receipt.folio.to_string(), "A-2027-000001");
}

/// A "paid" event that leaves out the amount or the currency is never
/// judged on the event (which would call a good payment a discrepancy):
/// Stripe's own session decides; without an answer from Stripe nothing is
/// applied and Stripe is asked to retry (503).
#[tokio::test]
async fn a_paid_event_without_its_amount_is_judged_on_stripes_own_session() {
    let h = harness().await;
    let (id, session_id, _) = order_and_checkout(&h, "P-000002").await;
    let paid = set_session(&h, &session_id, "complete", "paid", None);
    let mut blank = paid.clone();
    blank["amount_total"] = Value::Null;
    blank["currency"] = Value::Null;
    *h.fake.retrieve_fails.lock().unwrap() = true;
    let (status, body) = deliver(&h.app, &event("evt_blank_1", "checkout.session.completed", &blank)).await;
    assert_eq!(status, 503, "Stripe could not be asked: retry later, {body}");
    assert_eq!(order(&h.app, id).await["status"], "pending");
    *h.fake.retrieve_fails.lock().unwrap() = false;
    let (status, body) = deliver(&h.app, &event("evt_blank_2", "checkout.session.completed", &blank)).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("applied")), "{body}");
    assert_eq!(order(&h.app, id).await["status"], "succeeded");
    assert!(h.app.store.overpayments_of_order(id).await.unwrap().is_empty(), "no discrepancy recorded");
}
