//! Signed Stripe webhook ingest: `cargo bench -p server --bench webhooks`.
//!
//! 1. A padrón of N accounts with one open charge each, imported into a
//!    fresh SQLite file; the real application started as the tests do, with
//!    Stripe configured (its API base points nowhere: a paid
//!    `checkout.session.completed` needs no call to Stripe).
//! 2. One payment order per account, each with a pending Stripe attempt
//!    (what "Pagar en línea" leaves behind).
//! 3. For every order a `checkout.session.completed` (paid) event built on
//!    Stripe's example event, signed exactly as Stripe signs; each event is
//!    delivered R times (Stripe retries), all shuffled.
//! 4. They are POSTed to `/api/v1/stripe/webhook` by C keep-alive
//!    connections; every answer must be 200. The baseline is a bare axum
//!    handler taking the same bodies in the same process.
//! 5. Afterwards every order must be `succeeded` with exactly one move to
//!    `succeeded`, exactly one applied event, no overpayment, and its charge
//!    paid.
//!
//! Environment (all optional): `BENCH_ORDERS` (default 2000), `BENCH_REPEAT`
//! (deliveries per event, default 2), `BENCH_CONCURRENCY` (default 16).

mod support;

/// The production allocator (see server/Cargo.toml).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;
use std::sync::Arc;

use app::domain::account::AccountNumber;
use app::domain::money::Centavos;
use app::domain::payment::Provider;
use app::lookup::LookupQuery;
use app::store::{NewAttempt, PadronRow};
use app::stripe::{sign, Secret, StripeConfig};
use chrono::NaiveDate;
use serde_json::{json, Value};
use server::config::Settings;
use server::startup::{build_state, Application};
use support::{drive, env_or, spawn_baseline, thousands, Request};

const WEBHOOK_SECRET: &str = "whsec_bench";

#[tokio::main]
async fn main() {
    let orders: usize = env_or("BENCH_ORDERS", 2000);
    let repeat: usize = env_or("BENCH_REPEAT", 2);
    let concurrency: usize = env_or("BENCH_CONCURRENCY", 16);
    let dir = tempfile::tempdir().expect("temp dir");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let today = NaiveDate::from_ymd_opt(2026, 11, 21).expect("date");
    let settings = Settings {
        database_url: format!("sqlite://{}", dir.path().join("bench.db").display()),
        addr: "127.0.0.1:0".parse().expect("addr"),
        municipality: root.join("config/municipalities/loreto.toml"),
        today: Some(today),
        lookup_limit: 0,
        trust_forwarded_for: false,
        site_root: dir.path().join("site"),
        demo_payments: false,
        stripe: Some(StripeConfig {
            secret_key: Secret::new("sk_test_bench"),
            webhook_secret: Some(Secret::new(WEBHOOK_SECRET)),
            webhook_secret_previous: None,
            api_base: Some("http://127.0.0.1:9".into()),
            public_url: "https://pagos.loreto.gob.mx".into(),
            spei: false,
            refund_overpayments: false,
        }),
        public_url: "https://pagos.loreto.gob.mx".into(),
        receipt_keys: dir.path().join("receipt-keys.json"),
        verify_keys: None,
    };
    let state = build_state(&settings).await.expect("state");
    let rows: Vec<PadronRow> = (1..=orders)
        .map(|i| PadronRow {
            line: i + 1,
            account: AccountNumber::parse(&format!("B-{i:06}")).unwrap(),
            kind: "predial".into(),
            rfc: None,
            name: format!("Contribuyente {i}"),
            colonia: Some("Centro".into()),
            concept: "predial".into(),
            period: "2026-B6".into(),
            due_date: NaiveDate::from_ymd_opt(2026, 12, 31).expect("date"),
            amount: Centavos(50_000 + i64::try_from(i).expect("fits") * 7),
        })
        .collect();
    state.store.import_padron(&rows, &|_| {}).await.expect("import");

    // One order and one pending Stripe attempt per account; one event each.
    let template: Value =
        serde_json::from_str(include_str!("../tests/it/fixtures/stripe-fixtures.json")).expect("fixtures");
    let now = state.clock.now();
    let mut events = Vec::with_capacity(orders);
    let mut order_ids = Vec::with_capacity(orders);
    for i in 1..=orders {
        let order = app::orders::create_order(
            &state,
            &LookupQuery::Account(AccountNumber::parse(&format!("B-{i:06}")).unwrap()),
            None,
        )
        .await
        .expect("order");
        let session_id = format!("cs_bench_{i:06}");
        let attempt = state
            .store
            .start_attempt(
                &NewAttempt {
                    order_id: order.id,
                    provider: Provider::Stripe,
                    provider_ref: Some(session_id.clone()),
                    idempotency_key: format!("bench-{i}"),
                    amount: order.total,
                },
                now,
            )
            .await
            .expect("attempt");
        let mut session = template["resources"]["checkout.session"].clone();
        session["id"] = json!(session_id);
        session["status"] = json!("complete");
        session["payment_status"] = json!("paid");
        session["amount_total"] = json!(order.total.0);
        session["currency"] = json!("mxn");
        session["payment_intent"] = json!(format!("pi_bench_{i:06}"));
        session["metadata"] = json!({ "order_id": order.id.to_string(), "attempt_id": attempt.id.to_string() });
        let mut event = template["resources"]["event"].clone();
        event["id"] = json!(format!("evt_bench_{i:06}"));
        event["type"] = json!("checkout.session.completed");
        event["data"] = json!({ "object": session });
        events.push(event.to_string());
        order_ids.push(order.id);
    }

    let app = Application::with_state(settings.addr, state.clone()).await.expect("bind");
    let addr = app.local_addr();
    tokio::spawn(app.run_until_stopped());
    let baseline = spawn_baseline().await;

    // Every event `repeat` times, shuffled (deterministically), signed now.
    let mut deliveries: Vec<&String> = events.iter().flat_map(|e| std::iter::repeat_n(e, repeat)).collect();
    let mut seed = 0x5eed_u64;
    for i in (1..deliveries.len()).rev() {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let j = usize::try_from(seed >> 33).expect("fits") % (i + 1);
        deliveries.swap(i, j);
    }
    let signed = |path: &str| -> Arc<Vec<Request>> {
        let t = chrono::Utc::now().timestamp();
        Arc::new(
            deliveries
                .iter()
                .map(|body| {
                    Request::post(
                        path,
                        vec![
                            ("content-type", "application/json".into()),
                            ("stripe-signature", sign(WEBHOOK_SECRET, t, body.as_bytes())),
                        ],
                        body.to_string(),
                    )
                })
                .collect(),
        )
    };

    let base_run = drive(baseline, signed("/baseline"), concurrency, false).await;
    let run = drive(addr, signed("/api/v1/stripe/webhook"), concurrency, true).await;

    // Exactly one applied payment per order.
    let mut applied = 0;
    let mut duplicates = 0;
    for body in &run.bodies {
        let v: Value = serde_json::from_slice(body).expect("json answer");
        match v["status"].as_str() {
            Some("applied") => applied += 1,
            Some("duplicate") => duplicates += 1,
            other => panic!("unexpected webhook answer {other:?}: {v}"),
        }
    }
    assert_eq!(applied, orders, "one applied event per order");
    assert_eq!(duplicates, orders * (repeat - 1));
    for id in &order_ids {
        let order = state.store.get_order(*id).await.expect("read").expect("order");
        let succeeded = order.transitions.iter().filter(|t| t.to.as_str() == "succeeded").count();
        assert_eq!((order.status.as_str(), succeeded), ("succeeded", 1), "order {id}");
        assert!(state.store.overpayments_of_order(*id).await.expect("read").is_empty(), "order {id}");
    }
    assert_eq!(state.store.counts().await.expect("counts").open_charges, 0, "every charge paid");

    println!("signed webhook ingest: {orders} orders × {repeat} deliveries, {concurrency} connections, SQLite");
    println!("| scenario | events/s | p50 (ms) | p99 (ms) | vs baseline |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    for (name, r) in [("baseline: bare axum POST, same bodies", &base_run), ("`POST /api/v1/stripe/webhook`", &run)] {
        println!(
            "| {name} | {} | {:.2} | {:.2} | {:.1} % |",
            thousands(r.per_second()),
            r.percentile_ms(500),
            r.percentile_ms(990),
            100.0 * r.per_second() / base_run.per_second()
        );
    }
    println!("checked: {orders} orders succeeded once each, {duplicates} duplicates answered, no overpayment");
}
