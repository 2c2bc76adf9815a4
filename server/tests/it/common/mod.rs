//! `spawn_app()`: a real server on port 0 with its own fresh SQLite file.

#![allow(dead_code)]

pub mod pdf;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use app::store::Store;
use chrono::NaiveDate;
use server::config::Settings;
use server::startup::{build_state, Application};

/// The padrón every API test starts from. Figures are checked by hand in the
/// tests (today is 2026-11-21, Loreto: recargos 1.47 % a month).
pub const TEST_PADRON: &str = "\
account,kind,rfc,name,colonia,concept,period,due_date,amount
LC-000001,licencia_comercial,GODE561231GR8,Emilio Gómez Díaz,Centro,licencia_comercial,2026,2026-03-31,2450.00
LC-000001,licencia_comercial,GODE561231GR8,Emilio Gómez Díaz,Centro,basura,2026-10,2026-10-17,385.50
P-000001,predial,GODE561231GR8,Emilio Gómez Díaz,Centro,predial,2026-B1,2026-01-31,1000.00
P-000002,predial,,María Peña Núñez,Zaragoza,predial,2026-B6,2026-12-31,640.10
A-000003,agua,,Rosa Cota Peña,Nopoló,agua,2026-09,2026-10-15,180.00
A-000003,agua,,Rosa Cota Peña,Nopoló,agua,2026-10,2026-11-15,180.00
";

pub struct TestApp {
    pub addr: SocketAddr,
    pub base: String,
    pub db_path: PathBuf,
    pub client: reqwest::Client,
    /// The server's own store (e.g. to move an order's time along).
    pub store: Store,
    /// The server's own state (to call services such as
    /// `app::payments::apply_provider_event` directly).
    pub state: app::state::AppState,
    /// What the server was started with (to start another one on the same
    /// database and key file).
    pub settings: Settings,
    /// The server task: [`TestApp::kill`] aborts it (and its sweep).
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    _dir: Arc<tempfile::TempDir>,
}

pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with_limit(0).await
}

/// With the demonstration provider enabled (as `recauda demo` runs).
pub async fn spawn_app_with_limit(lookup_limit: u32) -> TestApp {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    start(dir, today(), lookup_limit, true, Payments::Demo).await
}

/// A server with Stripe configured (the tests point `api_base` at a fake).
pub async fn spawn_app_with_stripe(stripe: app::stripe::StripeConfig) -> TestApp {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    start(dir, today(), 0, true, Payments::Stripe(stripe)).await
}

/// A server as `recauda serve` starts with no payment settings: no
/// online provider at all.
pub async fn spawn_app_without_payments() -> TestApp {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    start(dir, today(), 0, true, Payments::None).await
}

/// A server whose public URL is plain http (a development machine): no
/// `__Host-` cookies, no `Secure`, no HSTS.
pub async fn spawn_app_over_http() -> TestApp {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    start_with(dir, today(), 0, true, Payments::Demo, "http://127.0.0.1:3000", None).await
}

/// A server whose municipality file is Loreto's with `extra` appended
/// (e.g. a `[staff]` section).
pub async fn spawn_app_with_municipality(extra: &str) -> TestApp {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let loreto = std::fs::read_to_string(root.join("config/municipalities/loreto.toml")).expect("loreto.toml");
    let path = dir.path().join("municipality.toml");
    std::fs::write(&path, format!("{loreto}\n{extra}\n")).expect("write the municipality file");
    start_with(dir, today(), 0, true, Payments::Demo, "https://pagos.loreto.gob.mx", Some(path)).await
}

/// A server (demo payments, the test padrón imported) on the database at
/// `database_url`: a PostgreSQL database for the tests that run a whole
/// flow on both backends (the key file and site stay in a temp dir).
pub async fn spawn_app_on_database(database_url: &str) -> TestApp {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    start_on(dir, today(), 0, true, Payments::Demo, "https://pagos.loreto.gob.mx", None, Some(database_url.into()))
        .await
}

/// Who takes online payments in a test server.
#[derive(Clone)]
pub enum Payments {
    Demo,
    Stripe(app::stripe::StripeConfig),
    None,
}

/// A server on `dir`'s database, with today fixed at `today`; the test padrón
/// is imported when `import` is set.
async fn start(
    dir: Arc<tempfile::TempDir>,
    today: NaiveDate,
    lookup_limit: u32,
    import: bool,
    payments: Payments,
) -> TestApp {
    start_with(dir, today, lookup_limit, import, payments, "https://pagos.loreto.gob.mx", None).await
}

async fn start_with(
    dir: Arc<tempfile::TempDir>,
    today: NaiveDate,
    lookup_limit: u32,
    import: bool,
    payments: Payments,
    public_url: &str,
    municipality: Option<PathBuf>,
) -> TestApp {
    start_on(dir, today, lookup_limit, import, payments, public_url, municipality, None).await
}

#[allow(clippy::too_many_arguments)]
async fn start_on(
    dir: Arc<tempfile::TempDir>,
    today: NaiveDate,
    lookup_limit: u32,
    import: bool,
    payments: Payments,
    public_url: &str,
    municipality: Option<PathBuf>,
    database_url: Option<String>,
) -> TestApp {
    let db_path = dir.path().join("recauda.db");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let settings = Settings {
        database_url: database_url.unwrap_or_else(|| format!("sqlite://{}", db_path.display())),
        addr: "127.0.0.1:0".parse().unwrap(),
        municipality: municipality.unwrap_or_else(|| root.join("config/municipalities/loreto.toml")),
        today: Some(today),
        lookup_limit,
        trust_forwarded_for: false,
        site_root: dir.path().join("site"),
        demo_payments: matches!(payments, Payments::Demo),
        stripe: match payments {
            Payments::Stripe(stripe) => Some(stripe),
            _ => None,
        },
        public_url: public_url.into(),
        receipt_keys: dir.path().join("receipt-keys.json"),
        verify_keys: None,
    };
    let state = build_state(&settings).await.expect("state");
    if import {
        let rows = server::import::parse_padron(TEST_PADRON.as_bytes()).expect("test padrón parses");
        state.store.import_padron(&rows, &|_| {}).await.expect("import");
    }
    let store = state.store.clone();
    let shared = state.clone();
    let app = Application::with_state(settings.addr, state).await.expect("bind");
    let addr = app.local_addr();
    let server = tokio::spawn(app.run_until_stopped());
    TestApp {
        addr,
        base: format!("http://{addr}"),
        db_path,
        client: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(),
        store,
        state: shared,
        settings,
        server,
        _dir: dir,
    }
}

impl TestApp {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{}", self.base, path)).send().await.expect("request")
    }

    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let response = self.get(path).await;
        let status = response.status().as_u16();
        (status, response.json().await.expect("json body"))
    }

    /// Kills the server as a crash would: no graceful shutdown, its
    /// healing sweep stopped mid-way, nothing more answered.
    pub async fn kill(&self) {
        self.server.abort();
        while !self.server.is_finished() {
            tokio::task::yield_now().await;
        }
    }

    /// A second server on the same database whose today is `today` (to see
    /// the same orders on a later day, or to restart after [`TestApp::kill`]).
    pub async fn on_day(&self, today: NaiveDate) -> TestApp {
        let payments = match (self.state.stripe.as_deref(), self.state.demo_payments) {
            (Some(stripe), _) => Payments::Stripe(stripe.clone()),
            (None, true) => Payments::Demo,
            (None, false) => Payments::None,
        };
        start(self._dir.clone(), today, 0, false, payments).await
    }

    /// POSTs a JSON body; the status and the JSON answer.
    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
        let response = self.client.post(format!("{}{}", self.base, path)).json(body).send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.expect("json body"))
    }

    /// POSTs raw bytes with a content type; the status and the JSON answer.
    pub async fn post_raw(&self, path: &str, content_type: &str, body: &str) -> (u16, serde_json::Value) {
        let response = self
            .client
            .post(format!("{}{}", self.base, path))
            .header("content-type", content_type)
            .body(body.to_string())
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.expect("json body"))
    }

    /// Runs SQL on the test database directly (e.g. to mark a charge paid).
    pub async fn sql(&self, statement: &str) {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", self.db_path.display())).await.unwrap();
        sqlx::query(statement).execute(&pool).await.unwrap();
        pool.close().await;
    }
}

/// The CSRF token the form helpers send as cookie and field.
pub const TOKEN: &str = "0123456789abcdef0123456789abcdef";

pub fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// POSTs a form with the CSRF session cookie `cookie` and the field `field`.
pub async fn post_form_with(
    app: &TestApp,
    path: &str,
    fields: &[(&str, String)],
    cookie: Option<&str>,
    field: Option<&str>,
) -> reqwest::Response {
    let mut body: Vec<String> = fields.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
    if let Some(f) = field {
        body.push(format!("csrf={}", encode(f)));
    }
    let mut request = app
        .client
        .post(format!("{}{}", app.base, path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.join("&"));
    if let Some(c) = cookie {
        request = request.header("cookie", format!("{}={c}", app.state.cookies.csrf_name()));
    }
    request.send().await.expect("request")
}

/// POSTs a form from the browser session [`TOKEN`], with its CSRF token.
pub async fn post_form(app: &TestApp, path: &str, fields: &[(&str, String)]) -> reqwest::Response {
    let token = app.state.csrf_key.token_for(TOKEN);
    post_form_with(app, path, fields, Some(TOKEN), Some(&token)).await
}

/// The `Location` of a 303.
pub fn location(r: &reqwest::Response) -> String {
    assert_eq!(r.status().as_u16(), 303, "expected a 303 redirect");
    r.headers()["location"].to_str().unwrap().to_string()
}

/// GETs a page: its status and HTML.
pub async fn page(app: &TestApp, path: &str) -> (u16, String) {
    let r = app.get(path).await;
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

/// The store's id of the order with this token (what the API and the
/// pages call the order).
pub async fn order_id(app: &TestApp, order_token: &str) -> i64 {
    let token = app::domain::order_token::OrderToken::parse(order_token).expect("an order token");
    app.store.order_id_by_token(&token).await.unwrap().expect("order exists")
}

/// Pays the order with this token as a card payment Stripe reported would
/// be (an attempt of provider Stripe, its `Paid` event through the one
/// provider-event path, `app::payments::apply_provider_event`), on a server
/// without Stripe configured: for the tests of what follows a real payment
/// (receipts of the online series) that are not about Stripe's HTTP.
pub async fn pay_as_stripe(app: &TestApp, order_token: &str) {
    use app::domain::payment::{Method, PaymentEvent, Provider};
    use app::store::{NewAttempt, ProviderEvent};
    let order_id = order_id(app, order_token).await;
    let order = app.store.get_order(order_id).await.unwrap().expect("the order");
    let now = app.state.clock.now();
    let attempt = app
        .store
        .start_attempt(
            &NewAttempt {
                order_id,
                provider: Provider::Stripe,
                provider_ref: Some(format!("cs_test_{order_id}")),
                idempotency_key: format!("test-{order_id}"),
                amount: order.total,
            },
            now,
        )
        .await
        .expect("attempt");
    let event = ProviderEvent {
        paid_on: None,
        provider: Provider::Stripe,
        event_id: format!("evt_test_{order_id}"),
        attempt_id: attempt.id,
        event: PaymentEvent::Paid { amount: order.total, currency: "MXN".into() },
        method: Some(Method::Card),
        instructions: None,
        payment_intent: Some(format!("pi_test_{order_id}")),
    };
    app::payments::apply_provider_event(&app.state, &event).await.expect("payment applied");
}
