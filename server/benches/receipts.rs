//! PDF receipts per second: `cargo bench -p server --bench receipts`.
//!
//! 1. A padrón of N accounts with one open charge each in a fresh SQLite
//!    file; the real application started as the tests do (demo provider,
//!    the Loreto logo from `public/`).
//! 2. Every account pays through the demo provider (the path of its "pay"
//!    button), which issues and signs one receipt each.
//! 3. `GET /recibo/{folio}/pdf?papel=carta|ticket&s=…` for every receipt,
//!    C keep-alive connections; every answer must be a 200 PDF. The baseline
//!    is a bare axum handler in the same process.
//! 4. Also the renderer alone (`render_pdf`, one thread, no HTTP, no
//!    database): the ceiling.
//!
//! Environment (all optional): `BENCH_RECEIPTS` (default 300),
//! `BENCH_ROUNDS` (requests per receipt and paper, default 4),
//! `BENCH_CONCURRENCY` (default 8).

mod support;

/// The production allocator (see server/Cargo.toml).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use app::domain::account::AccountNumber;
use app::domain::money::Centavos;
use app::lookup::LookupQuery;
use app::payments::{demo_action, start_checkout, DemoAction};
use app::store::PadronRow;
use chrono::NaiveDate;
use server::config::Settings;
use server::receipt_pdf::{render_pdf, Paper};
use server::startup::{build_state, Application};
use support::{as_f64, drive, env_or, spawn_baseline, thousands, Request};

#[tokio::main]
async fn main() {
    let receipts: usize = env_or("BENCH_RECEIPTS", 300);
    let rounds: usize = env_or("BENCH_ROUNDS", 4);
    let concurrency: usize = env_or("BENCH_CONCURRENCY", 8);
    let dir = tempfile::tempdir().expect("temp dir");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let settings = Settings {
        database_url: format!("sqlite://{}", dir.path().join("bench.db").display()),
        addr: "127.0.0.1:0".parse().expect("addr"),
        municipality: root.join("config/municipalities/loreto.toml"),
        today: NaiveDate::from_ymd_opt(2026, 11, 21),
        lookup_limit: 0,
        trust_forwarded_for: false,
        // The logo's PNG is read from the site root, as in production.
        site_root: root.join("public"),
        stripe: None,
        demo_payments: true,
        public_url: "https://pagos.loreto.gob.mx".into(),
        receipt_keys: dir.path().join("receipt-keys.json"),
        verify_keys: None,
    };
    let state = build_state(&settings).await.expect("state");
    let rows: Vec<PadronRow> = (1..=receipts)
        .map(|i| PadronRow {
            line: i + 1,
            account: AccountNumber::parse(&format!("R-{i:06}")).unwrap(),
            kind: "predial".into(),
            rfc: None,
            name: format!("María Guadalupe Pérez Núñez {i}"),
            colonia: Some("Centro".into()),
            concept: "predial".into(),
            period: "2026-B6".into(),
            due_date: NaiveDate::from_ymd_opt(2026, 12, 31).expect("date"),
            amount: Centavos(120_000 + i64::try_from(i).expect("fits") * 13),
        })
        .collect();
    state.store.import_padron(&rows, &|_| {}).await.expect("import");
    let mut links = Vec::with_capacity(receipts);
    for i in 1..=receipts {
        let order = app::orders::create_order(
            &state,
            &LookupQuery::Account(AccountNumber::parse(&format!("R-{i:06}")).unwrap()),
            None,
        )
        .await
        .expect("order");
        let checkout = start_checkout(&state, order.id).await.expect("checkout");
        demo_action(&state, checkout.attempt.id, DemoAction::PayCard).await.expect("paid");
        let r = app::receipts::receipt_of_order(&state, order.id).await.expect("read").expect("a receipt");
        links.push(format!("/recibo/{}/pdf?s={}", r.folio, r.signature.expect("signed")));
    }
    let sample = state
        .store
        .receipt_by_folio(&app::domain::folio::Folio::parse("A-2026-000001").unwrap())
        .await
        .expect("read")
        .expect("receipt");
    let view = server::receipts::receipt_view(&state, &sample).await.expect("view");
    assert!(view.logo_png.is_some(), "the logo PNG is found under the site root");

    let app = Application::with_state(settings.addr, state.clone()).await.expect("bind");
    let addr = app.local_addr();
    tokio::spawn(app.run_until_stopped());
    let baseline = spawn_baseline().await;

    let requests = |papel: &str| -> Arc<Vec<Request>> {
        Arc::new((0..rounds).flat_map(|_| links.iter().map(|l| Request::get(format!("{l}&papel={papel}")))).collect())
    };
    let base_run =
        drive(baseline, Arc::new(vec![Request::get("/baseline"); receipts * rounds]), concurrency, false).await;
    let letter = drive(addr, requests("carta"), concurrency, true).await;
    let ticket = drive(addr, requests("ticket"), concurrency, true).await;
    for body in letter.bodies.iter().chain(ticket.bodies.iter()) {
        assert!(body.starts_with(b"%PDF-"), "every answer is a PDF");
    }
    let bytes = |r: &support::Run| r.bodies.iter().map(|b| b.len()).sum::<usize>() / r.bodies.len().max(1);

    // The renderer alone, one thread.
    let mut renderer = Vec::new();
    for paper in [Paper::Letter, Paper::Ticket80mm] {
        let n = 300;
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(render_pdf(&view, paper).expect("render"));
        }
        renderer.push((paper, as_f64(n) / t.elapsed().as_secs_f64()));
    }

    println!("PDF receipts: {receipts} receipts × {rounds} rounds, {concurrency} connections, SQLite");
    println!("| scenario | receipts/s | p50 (ms) | p99 (ms) | vs baseline | PDF size |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    println!(
        "| baseline: bare axum, static JSON | {} | {:.2} | {:.2} | 100.0 % | — |",
        thousands(base_run.per_second()),
        base_run.percentile_ms(500),
        base_run.percentile_ms(990)
    );
    for (name, r) in
        [("`GET /recibo/{folio}/pdf?papel=carta`", &letter), ("`GET /recibo/{folio}/pdf?papel=ticket`", &ticket)]
    {
        println!(
            "| {name} | {} | {:.2} | {:.2} | {:.1} % | {} KB |",
            thousands(r.per_second()),
            r.percentile_ms(500),
            r.percentile_ms(990),
            100.0 * r.per_second() / base_run.per_second(),
            bytes(r) / 1024
        );
    }
    for (paper, rate) in renderer {
        println!("| `render_pdf` alone, one thread, {paper:?} | {} | — | — | — | — |", thousands(rate));
    }
}
