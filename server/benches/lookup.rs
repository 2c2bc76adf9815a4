//! Lookup throughput benchmark: `cargo bench -p server --bench lookup`.
//!
//! 1. Builds a padrón of 100,000 accounts × 10 open charges (1,000,000
//!    charges) in memory and loads it into a fresh SQLite file with
//!    `Store::import_padron`, the same all-or-nothing import the CLI uses.
//! 2. Starts the real application exactly as the API tests do (port 0,
//!    Loreto, today = 2026-11-21, no rate limit).
//! 3. Starts a bare axum handler returning a small static JSON body on another
//!    port of the same process: the baseline.
//! 4. Drives each target with a closed-loop generator: C keep-alive HTTP/1.1
//!    connections (one hyper connection per worker, loopback only), a warm-up
//!    and then a fixed measuring window. Every response must be 200.
//!
//! Environment (all optional):
//! - `BENCH_SECONDS`     measuring window per scenario, seconds (default 10)
//! - `BENCH_WARMUP`      warm-up per scenario, seconds (default 2)
//! - `BENCH_CONCURRENCY` connections / in-flight requests (default 16)
//! - `BENCH_ACCOUNTS`    accounts in the padrón, 10 charges each (default 100000)
//!
//! Nothing is cached between runs: every run imports into a new temp dir.

/// The production allocator (see server/Cargo.toml).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use app::domain::money::Centavos;
use app::domain::rfc::{rfc_check_digit, Rfc};
use app::store::PadronRow;
use chrono::NaiveDate;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use server::config::Settings;
use server::startup::{build_state, Application};
use tokio::net::TcpStream;

mod support;
use support::{as_f64, env_or, spawn_baseline, thousands};

const CHARGES_PER_ACCOUNT: usize = 10;

/// A count as `u64` (for the import summary and seeds).
fn count(n: usize) -> u64 {
    u64::try_from(n).expect("usize fits u64")
}

/// splitmix64: deterministic, dependency-free pseudo-random numbers.
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0; the modulo bias is irrelevant here).
    fn below(&mut self, n: usize) -> usize {
        let n64 = u64::try_from(n).expect("usize fits u64");
        usize::try_from(self.next() % n64).expect("below n")
    }

    /// Uniform in `0..n` as a `u32`.
    fn below_u32(&mut self, n: u32) -> u32 {
        u32::try_from(self.next() % u64::from(n)).expect("below n")
    }
}

// ---------------------------------------------------------------------------
// The synthetic padrón
// ---------------------------------------------------------------------------

const FIRST_NAMES: &[&str] = &[
    "José",
    "María",
    "Juan",
    "Guadalupe",
    "Francisco",
    "Ana",
    "Jesús",
    "Rosa",
    "Antonio",
    "Laura",
    "Miguel",
    "Verónica",
    "Pedro",
    "Patricia",
    "Luis",
    "Carmen",
    "Alejandro",
    "Leticia",
    "Manuel",
    "Silvia",
];
const SURNAMES: &[&str] = &[
    "Hernández",
    "García",
    "Martínez",
    "López",
    "González",
    "Pérez",
    "Rodríguez",
    "Sánchez",
    "Ramírez",
    "Cruz",
    "Flores",
    "Gómez",
    "Morales",
    "Vázquez",
    "Reyes",
    "Jiménez",
    "Torres",
    "Díaz",
    "Gutiérrez",
    "Ruiz",
    "Mendoza",
    "Aguilar",
    "Ortiz",
    "Moreno",
    "Castillo",
    "Romero",
    "Álvarez",
    "Méndez",
    "Chávez",
    "Rivera",
];
const COMPANY_WORDS: &[&str] = &[
    "Comercializadora",
    "Servicios",
    "Abarrotes",
    "Distribuidora",
    "Restaurante",
    "Hotel",
    "Ferretería",
    "Pescados y Mariscos",
    "Materiales",
    "Farmacia",
];
const COMPANY_SUFFIX: &[&str] = &["S.A. de C.V.", "S. de R.L. de C.V.", "S.C."];
const COLONIAS: &[&str] = &[
    "Centro",
    "Zaragoza",
    "Miramar",
    "Nopoló",
    "Jesús Castro Agúndez",
    "Pedro Ruiz",
    "Benito Juárez",
    "Misioneros",
    "Colinas",
    "San Javier",
    "El Ranchito",
    "Infonavit",
];

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

fn last_day_of_month(y: i32, m: u32) -> NaiveDate {
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    ymd(ny, nm, 1).pred_opt().expect("valid date")
}

/// `n` in base 26 as exactly `width` letters A–Z (unique per `n` below 26^width).
fn letters(mut n: usize, width: usize) -> String {
    let mut out = vec![b'A'; width];
    for slot in out.iter_mut().rev() {
        *slot = b'A' + u8::try_from(n % 26).expect("below 26");
        n /= 26;
    }
    String::from_utf8(out).expect("ascii")
}

/// A well-formed RFC with a correct SAT check digit, unique per `(moral, n)`.
fn make_rfc(moral: bool, n: usize, rng: &mut Rng) -> Rfc {
    const HOMO: &[u8] = b"ABCDEFGHJKLMNPRSTUVWXYZ123456789";
    let prefix = if moral { letters(n, 3) } else { letters(n, 4) };
    let year = if moral { 1990 + rng.below_u32(34) } else { 1940 + rng.below_u32(65) };
    let month = 1 + rng.below_u32(12);
    let day = 1 + rng.below_u32(28);
    let homoclave: String = (0..2).map(|_| HOMO[rng.below(HOMO.len())] as char).collect();
    let body = format!("{prefix}{:02}{month:02}{day:02}{homoclave}", year % 100);
    let digit = rfc_check_digit(&body).expect("RFC body in the SAT table");
    Rfc::parse(&format!("{body}{digit}")).expect("generated RFC is valid")
}

fn money(rng: &mut Rng, min_pesos: u64, max_pesos: u64) -> Centavos {
    let pesos = min_pesos + rng.next() % (max_pesos - min_pesos + 1);
    Centavos(i64::try_from(pesos * 100 + rng.next() % 100).expect("small amount"))
}

/// One charge of an account, before it becomes a [`PadronRow`].
struct Charge {
    concept: &'static str,
    period: String,
    due_date: NaiveDate,
    amount: Centavos,
}

/// Ten open charges for an account of `kind`, with distinct (concept, period)
/// and due dates on both sides of 2026-11-21.
fn charges_for(kind: &str, rng: &mut Rng) -> Vec<Charge> {
    let mut out = Vec::with_capacity(CHARGES_PER_ACCOUNT);
    // Some accounts are a year behind: older charges, more recargos.
    let behind = rng.below(4) == 0;
    match kind {
        "predial" => {
            // Six bimesters of predial (the last one falls due after today)…
            let year = if behind { 2025 } else { 2026 };
            let base = money(rng, 180, 9_500);
            for b in 1..=6u32 {
                let due = if year == 2026 && b == 6 { ymd(2026, 12, 31) } else { last_day_of_month(year, b * 2) };
                out.push(Charge { concept: "predial", period: format!("{year}-B{b}"), due_date: due, amount: base });
            }
            // … and four months of basura (September to December 2026).
            for m in 9..=12u32 {
                out.push(Charge {
                    concept: "basura",
                    period: format!("2026-{m:02}"),
                    due_date: ymd(2026, m, 17),
                    amount: money(rng, 60, 180),
                });
            }
        }
        "agua" => {
            // Eight months of agua (May–December 2026, due on the 20th)…
            let first = if behind { 3 } else { 5 };
            for m in first..first + 8u32 {
                out.push(Charge {
                    concept: "agua",
                    period: format!("2026-{m:02}"),
                    due_date: ymd(2026, m, 20),
                    amount: money(rng, 95, 1_400),
                });
            }
            // … and two of basura (one overdue, one not yet due).
            for m in 11..=12u32 {
                out.push(Charge {
                    concept: "basura",
                    period: format!("2026-{m:02}"),
                    due_date: ymd(2026, m, 17),
                    amount: money(rng, 60, 180),
                });
            }
        }
        _ => {
            // licencia_comercial for 2025 and 2026 (and 2027, due in January
            // next year, for accounts that are up to date)…
            let years: &[i32] = if behind { &[2024, 2025, 2026] } else { &[2025, 2026, 2027] };
            for &y in years {
                out.push(Charge {
                    concept: "licencia_comercial",
                    period: y.to_string(),
                    due_date: if y == 2027 { ymd(2027, 1, 31) } else { ymd(y, 3, 31) },
                    amount: money(rng, 1_200, 25_000),
                });
            }
            // … and seven months of commercial basura (June–December 2026).
            for m in 6..=12u32 {
                out.push(Charge {
                    concept: "basura",
                    period: format!("2026-{m:02}"),
                    due_date: ymd(2026, m, 17),
                    amount: money(rng, 250, 900),
                });
            }
        }
    }
    debug_assert_eq!(out.len(), CHARGES_PER_ACCOUNT);
    out
}

struct Padron {
    rows: Vec<PadronRow>,
    accounts: Vec<String>,
    /// Every distinct RFC in the padrón, and the largest number of accounts one holds.
    rfcs: Vec<String>,
    max_accounts_per_rfc: usize,
    shared_rfcs: usize,
}

/// Accounts are owned by taxpayers; about 40 % of taxpayers hold 2–5
/// accounts (so an RFC lookup returns several), 8 % have no RFC on file.
fn build_padron(n_accounts: usize) -> Padron {
    let mut rng = Rng(0x5EC0_DA11_2026_1121);
    let mut rows = Vec::with_capacity(n_accounts * CHARGES_PER_ACCOUNT);
    let mut accounts = Vec::with_capacity(n_accounts);
    let mut rfcs = Vec::new();
    let (mut max_accounts_per_rfc, mut shared_rfcs) = (0, 0);
    let (mut fisicas, mut morales) = (0usize, 0usize);
    let mut serial = [0usize; 3];
    let mut i = 0;
    while i < n_accounts {
        // One taxpayer and the accounts it holds.
        let group = match rng.below(100) {
            0..=59 => 1,
            60..=84 => 2,
            85..=94 => 3,
            _ => 5,
        }
        .min(n_accounts - i);
        let moral = rng.below(10) == 0;
        let rfc = if rng.below(100) < 8 {
            None
        } else if moral {
            morales += 1;
            Some(make_rfc(true, morales, &mut rng))
        } else {
            fisicas += 1;
            Some(make_rfc(false, fisicas, &mut rng))
        };
        let name = if moral {
            format!(
                "{} {} {}",
                COMPANY_WORDS[rng.below(COMPANY_WORDS.len())],
                SURNAMES[rng.below(SURNAMES.len())],
                COMPANY_SUFFIX[rng.below(COMPANY_SUFFIX.len())]
            )
        } else {
            format!(
                "{} {} {}",
                FIRST_NAMES[rng.below(FIRST_NAMES.len())],
                SURNAMES[rng.below(SURNAMES.len())],
                SURNAMES[rng.below(SURNAMES.len())]
            )
        };
        // The padrón keeps the colonia with the taxpayer (one per taxpayer).
        let colonia = if rng.below(20) == 0 { None } else { Some(COLONIAS[rng.below(COLONIAS.len())].to_string()) };
        if let Some(r) = &rfc {
            rfcs.push(r.as_str().to_string());
            max_accounts_per_rfc = max_accounts_per_rfc.max(group);
            if group > 1 {
                shared_rfcs += 1;
            }
        }
        for _ in 0..group {
            let (kind, prefix, k) = match rng.below(10) {
                _ if moral => ("licencia_comercial", "LC", 2),
                0..=5 => ("predial", "P", 0),
                6..=8 => ("agua", "A", 1),
                _ => ("licencia_comercial", "LC", 2),
            };
            serial[k] += 1;
            let account = app::domain::account::AccountNumber::parse(&format!("{prefix}-{:06}", serial[k])).unwrap();
            for c in charges_for(kind, &mut rng) {
                rows.push(PadronRow {
                    line: rows.len() + 2, // as if read from a CSV with a header line
                    account: account.clone(),
                    kind: kind.to_string(),
                    rfc: rfc.clone(),
                    name: name.clone(),
                    colonia: colonia.clone(),
                    concept: c.concept.to_string(),
                    period: c.period,
                    due_date: c.due_date,
                    amount: c.amount,
                });
            }
            accounts.push(account.into_string());
        }
        i += group;
    }
    Padron { rows, accounts, rfcs, max_accounts_per_rfc, shared_rfcs }
}

// ---------------------------------------------------------------------------
// Servers
// ---------------------------------------------------------------------------

// ---------------------------------------------------------------------------
// Load generator
// ---------------------------------------------------------------------------

struct Outcome {
    requests: usize,
    errors: usize,
    first_error: Option<String>,
    latencies_us: Vec<u32>,
    measured: Duration,
}

type Sender = hyper::client::conn::http1::SendRequest<Empty<Bytes>>;

async fn connect(addr: SocketAddr) -> Sender {
    let stream = TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.expect("handshake");
    tokio::spawn(async move {
        let _ = conn.await;
    });
    sender
}

/// One request; `Ok(())` only for a 200 with a fully read body.
async fn request(sender: &mut Sender, addr: SocketAddr, path: &str) -> Result<(), String> {
    sender.ready().await.map_err(|e| format!("connection: {e}"))?;
    let req = hyper::Request::get(path)
        .header(hyper::header::HOST, addr.to_string())
        .body(Empty::<Bytes>::new())
        .expect("request");
    let response = sender.send_request(req).await.map_err(|e| format!("send: {e}"))?;
    let status = response.status();
    let body = response.into_body().collect().await.map_err(|e| format!("body: {e}"))?.to_bytes();
    if status != hyper::StatusCode::OK {
        return Err(format!("{path}: HTTP {status}: {}", String::from_utf8_lossy(&body[..body.len().min(200)])));
    }
    Ok(())
}

/// Closed loop: `concurrency` workers, each on its own keep-alive connection,
/// send the next request as soon as the previous answer is read. Only
/// requests started and finished inside the measuring window count.
async fn run_load(
    addr: SocketAddr,
    paths: Arc<Vec<String>>,
    concurrency: usize,
    warmup: Duration,
    measure: Duration,
) -> Outcome {
    let start = Instant::now();
    let window_start = start + warmup;
    let window_end = window_start + measure;
    let mut workers = Vec::with_capacity(concurrency);
    for w in 0..concurrency {
        let paths = paths.clone();
        let mut sender = connect(addr).await;
        workers.push(tokio::spawn(async move {
            let mut rng = Rng(0xC0FF_EE00 + count(w));
            let mut latencies = Vec::with_capacity(1 << 16);
            let (mut errors, mut first_error) = (0usize, None);
            loop {
                let sent = Instant::now();
                if sent >= window_end {
                    break;
                }
                let path = &paths[rng.below(paths.len())];
                let result = request(&mut sender, addr, path).await;
                let done = Instant::now();
                let counted = sent >= window_start && done <= window_end;
                if let Err(e) = result {
                    // Errors count whenever they happen (warm-up included).
                    errors += 1;
                    first_error.get_or_insert(e);
                    sender = connect(addr).await;
                } else if counted {
                    let us = u32::try_from((done - sent).as_micros()).unwrap_or(u32::MAX);
                    latencies.push(us);
                }
            }
            (latencies, errors, first_error)
        }));
    }
    let mut outcome =
        Outcome { requests: 0, errors: 0, first_error: None, latencies_us: Vec::new(), measured: measure };
    for w in workers {
        let (latencies, errors, first_error) = w.await.expect("worker");
        outcome.errors += errors;
        if outcome.first_error.is_none() {
            outcome.first_error = first_error;
        }
        outcome.latencies_us.extend(latencies);
    }
    outcome.requests = outcome.latencies_us.len();
    outcome.latencies_us.sort_unstable();
    outcome
}

/// Nearest-rank percentile (`permille`: 500 = p50, 990 = p99), in ms.
fn percentile_ms(sorted_us: &[u32], permille: usize) -> f64 {
    if sorted_us.is_empty() {
        return f64::NAN;
    }
    let rank = (sorted_us.len() * permille).div_ceil(1000);
    f64::from(sorted_us[rank.clamp(1, sorted_us.len()) - 1]) / 1000.0
}

// ---------------------------------------------------------------------------

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; a plain `cargo test --benches` passes
    // nothing, and then this is only compiled, not run.
    if !std::env::args().any(|a| a == "--bench") {
        println!("lookup benchmark: run it with `cargo bench -p server --bench lookup`");
        return;
    }
    let measure = Duration::from_secs_f64(env_or("BENCH_SECONDS", 10.0));
    let warmup = Duration::from_secs_f64(env_or("BENCH_WARMUP", 2.0));
    let concurrency: usize = env_or("BENCH_CONCURRENCY", 16);
    let n_accounts: usize = env_or("BENCH_ACCOUNTS", 100_000);
    assert!(concurrency > 0 && n_accounts > 0 && measure > Duration::ZERO);

    // --- the padrón ---
    let t = Instant::now();
    let padron = build_padron(n_accounts);
    let n_rows = padron.rows.len();
    eprintln!(
        "generated {} rows ({} accounts, {} RFCs, {} shared by 2–{} accounts) in {:.1} s",
        thousands(as_f64(n_rows)),
        thousands(as_f64(padron.accounts.len())),
        thousands(as_f64(padron.rfcs.len())),
        thousands(as_f64(padron.shared_rfcs)),
        padron.max_accounts_per_rfc,
        t.elapsed().as_secs_f64()
    );

    // --- the application, exactly as the API tests start it ---
    let dir = tempfile::tempdir().expect("temp dir");
    let db_path = dir.path().join("recauda.db");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let settings = Settings {
        database_url: format!("sqlite://{}", db_path.display()),
        addr: "127.0.0.1:0".parse().expect("address"),
        municipality: root.join("config/municipalities/loreto.toml"),
        today: Some(ymd(2026, 11, 21)),
        lookup_limit: 0,
        trust_forwarded_for: false,
        site_root: dir.path().join("site"),
        stripe: None,
        demo_payments: true,
        public_url: "https://pagos.loreto.gob.mx".into(),
        receipt_keys: dir.path().join("receipt-keys.json"),
        verify_keys: None,
    };
    let state = build_state(&settings).await.expect("application state");

    // --- the import (one transaction, as `recauda import padron`) ---
    let seen = AtomicUsize::new(0);
    let calls = AtomicUsize::new(0);
    let progress = |n: usize| {
        calls.fetch_add(1, Ordering::Relaxed);
        // Cheap: one atomic max; a line every ~10 %.
        let before = seen.fetch_max(n, Ordering::Relaxed);
        let step = (n_rows / 10).max(1);
        if n / step > before / step {
            eprintln!("  import: {} / {} rows", thousands(as_f64(n)), thousands(as_f64(n_rows)));
        }
    };
    let t = Instant::now();
    let summary = state.store.import_padron(&padron.rows, &progress).await.expect("import");
    let import_time = t.elapsed();
    let import_rate = as_f64(n_rows) / import_time.as_secs_f64();
    assert_eq!(summary.charges_created, count(n_rows), "every charge is new: {summary:?}");
    assert_eq!(summary.accounts_created, count(padron.accounts.len()), "{summary:?}");
    let db_bytes: u64 = std::fs::read_dir(dir.path())
        .expect("temp dir")
        .filter_map(|e| e.ok()?.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum();
    eprintln!(
        "imported in {:.1} s ({} rows/s, {} progress calls, database {} MB)",
        import_time.as_secs_f64(),
        thousands(import_rate),
        calls.load(Ordering::Relaxed),
        db_bytes / 1_000_000
    );
    let Padron { rows, accounts, rfcs, max_accounts_per_rfc, .. } = padron;
    drop(rows);

    let app = Application::with_state(settings.addr, state).await.expect("bind");
    let app_addr = app.local_addr();
    tokio::spawn(app.run_until_stopped());
    let base_addr = spawn_baseline().await;

    // --- sanity: the three targets answer what we think they answer ---
    let mut probe = connect(base_addr).await;
    let check = |path: String| {
        let addr = app_addr;
        async move {
            let client = reqwest::Client::new();
            let r = client.get(format!("http://{addr}{path}")).send().await.expect("probe");
            assert_eq!(r.status(), 200, "{path}");
            r.json::<serde_json::Value>().await.expect("json")
        }
    };
    let doc = check(format!("/api/v1/debts?account={}", accounts[0])).await;
    let items = doc["accounts"][0]["items"].as_array().map_or(0, Vec::len);
    assert_eq!(items, CHARGES_PER_ACCOUNT, "account {} has every charge open: {doc}", accounts[0]);
    let mut most = 0;
    for rfc in rfcs.iter().take(200) {
        let doc = check(format!("/api/v1/debts?rfc={rfc}")).await;
        most = most.max(doc["accounts"].as_array().map_or(0, Vec::len));
    }
    assert!(most > 1 || max_accounts_per_rfc == 1, "some RFC lookups return several accounts");
    request(&mut probe, base_addr, "/baseline").await.expect("baseline answers");
    drop(probe);

    // --- load ---
    // The baseline runs first and last: the machine's speed drifts (other
    // tenants of a VM), and the ratio is taken against the mean of both.
    let scenarios: [(&str, SocketAddr, Vec<String>); 4] = [
        ("baseline: bare axum, static JSON (first)", base_addr, vec!["/baseline".to_string()]),
        (
            "`GET /api/v1/debts?account=…`",
            app_addr,
            accounts.iter().map(|a| format!("/api/v1/debts?account={a}")).collect(),
        ),
        ("`GET /api/v1/debts?rfc=…`", app_addr, rfcs.iter().map(|r| format!("/api/v1/debts?rfc={r}")).collect()),
        ("baseline: bare axum, static JSON (last)", base_addr, vec!["/baseline".to_string()]),
    ];
    let mut results = Vec::new();
    let mut failed = false;
    for (name, addr, paths) in scenarios {
        eprintln!(
            "running {name} ({} s warm-up, {} s measured, {concurrency} connections)…",
            warmup.as_secs_f64(),
            measure.as_secs_f64()
        );
        let outcome = run_load(addr, Arc::new(paths), concurrency, warmup, measure).await;
        if outcome.errors > 0 {
            eprintln!(
                "ERROR: {name}: {} failed requests; first: {}",
                outcome.errors,
                outcome.first_error.as_deref().unwrap_or("?")
            );
            failed = true;
        }
        results.push((name, outcome));
    }

    let rps_of = |o: &Outcome| as_f64(o.requests) / o.measured.as_secs_f64();
    let base_rps = (rps_of(&results[0].1) + rps_of(&results[3].1)) / 2.0;
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!();
    println!(
        "Padrón: {} accounts, {} open charges; import {:.1} s ({} rows/s). {} cores, {} connections, {:.0} s measured after {:.0} s warm-up.",
        thousands(as_f64(accounts.len())),
        thousands(as_f64(n_rows)),
        import_time.as_secs_f64(),
        thousands(import_rate),
        cores,
        concurrency,
        measure.as_secs_f64(),
        warmup.as_secs_f64()
    );
    println!();
    println!("| scenario | requests/s | p50 (ms) | p99 (ms) | vs baseline |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    for (name, o) in &results {
        let rps = as_f64(o.requests) / o.measured.as_secs_f64();
        println!(
            "| {name} | {} | {:.2} | {:.2} | {:.1} % |",
            thousands(rps),
            percentile_ms(&o.latencies_us, 500),
            percentile_ms(&o.latencies_us, 990),
            100.0 * rps / base_rps
        );
    }
    println!("(vs baseline: against the mean of its first and last runs, {} requests/s)", thousands(base_rps));
    println!();
    drop(dir);
    if failed {
        eprintln!("benchmark FAILED: some responses were not 200 (see above)");
        std::process::exit(1);
    }
}
