//! The fault campaign: real `recauda serve` processes, killed with SIGKILL
//! at random points while payment flows run through them, against the
//! Stripe fake of `crate::stripe` injecting errors, on SQLite (one server)
//! and on PostgreSQL (two servers on one database, requests and webhooks
//! sent to either).
//!
//! A flow is what a citizen and Stripe do with one account: an order, a
//! checkout (Stripe may refuse it, throttle it with 429s, answer 409 or
//! 500, or take longer than the client waits), then what Stripe reports —
//! a card paid, an OXXO voucher paid or lapsed, a session abandoned, an
//! amount that does not match, events with `amount_total` or `metadata`
//! null — delivered once to three times each, sometimes out of order,
//! sometimes lost. Before any step a server may be killed (at once, or a
//! few milliseconds into the step, while requests are in flight) and is
//! started again.
//!
//! After every wave of flows, and again at the end, the database must
//! hold the invariants ([`check_invariants`]):
//! * no charge is covered by two succeeded orders;
//! * folios are unique and gapless per series and year, and match their counter;
//! * no live order holds a paid charge; a charge is paid only through a succeeded order;
//! * every succeeded order has its one receipt, and the receipts add up to the applied payments;
//! * nothing is lost: every session Stripe reports paid is a succeeded
//!   attempt, or money recorded for the treasury (overpayment or discrepancy);
//! * the audit trail is one unbroken chain with an entry per payment
//!   applied and per receipt issued.
//!
//! At the end every server is killed and Stripe's sessions reach their
//! final state; two days later a server starts and is killed in the middle
//! of its healing sweep; a day later every server starts: the start-up
//! pass and the sweep must leave no order pending, and (on PostgreSQL, two
//! servers at once) Stripe must be asked about each attempt once.
//!
//! Size: `RECAUDA_CAMPAIGN_FLOWS` flows per backend (default 100, the CI
//! size); the seed is printed and can be replayed with
//! `RECAUDA_CAMPAIGN_SEED`. Full size: `RECAUDA_CAMPAIGN_FLOWS=1000 cargo
//! test -p server --test it campaign -- --nocapture`.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use app::store::Store;
use serde_json::{json, Value};

use crate::stripe::{event, intent_fixture, spawn_fake, Fake, SECRET_KEY, WEBHOOK_SECRET};

// ------------------------------------------------------------------ randomness

/// xorshift64*: reproducible from the printed seed.
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

// --------------------------------------------------------------------- servers

/// The `recauda serve` processes of a campaign, on one database.
struct Fleet {
    bin: PathBuf,
    dir: PathBuf,
    env: Vec<(String, String)>,
    nodes: Vec<Mutex<Option<Node>>>,
    kills: AtomicUsize,
    starts: AtomicUsize,
    /// One revival at a time (never two processes for one node).
    reviving: tokio::sync::Mutex<()>,
    /// Set when the background reviver must stop.
    settling: std::sync::atomic::AtomicBool,
}

struct Node {
    child: Child,
    base: String,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Fleet {
    fn new(dir: &Path, database_url: &str, stripe_base: &str, nodes: usize) -> Fleet {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let env = vec![
            ("RECAUDA_DATABASE_URL", database_url.to_string()),
            ("RECAUDA_MUNICIPALITY", root.join("config/municipalities/loreto.toml").display().to_string()),
            ("RECAUDA_LOOKUP_LIMIT", "0".into()),
            ("RECAUDA_RECEIPT_KEYS", dir.join("receipt-keys.json").display().to_string()),
            ("RECAUDA_STRIPE_SECRET_KEY", SECRET_KEY.into()),
            ("RECAUDA_STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET.into()),
            ("RECAUDA_STRIPE_API_BASE", stripe_base.into()),
            ("RECAUDA_PUBLIC_URL", "https://pagos.loreto.gob.mx".into()),
            ("LEPTOS_SITE_ROOT", dir.join("site").display().to_string()),
            ("RECAUDA_LOG", "warn".into()),
        ];
        Fleet {
            bin: PathBuf::from(env!("CARGO_BIN_EXE_recauda")),
            dir: dir.to_path_buf(),
            env: env.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            nodes: (0..nodes).map(|_| Mutex::new(None)).collect(),
            kills: AtomicUsize::new(0),
            starts: AtomicUsize::new(0),
            reviving: tokio::sync::Mutex::new(()),
            settling: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Starts node `i` (on `today` when given) and waits until it answers.
    async fn start(&self, i: usize, today: Option<&str>) {
        let port = free_port();
        let log =
            std::fs::OpenOptions::new().create(true).append(true).open(self.dir.join(format!("node-{i}.log"))).unwrap();
        let mut command = Command::new(&self.bin);
        command
            .arg("serve")
            .current_dir(&self.dir)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("RECAUDA_ADDR", format!("127.0.0.1:{port}"))
            .env_remove("RECAUDA_CONFIG")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        match today {
            Some(day) => command.env("RECAUDA_TODAY", day),
            None => command.env_remove("RECAUDA_TODAY"),
        };
        let child = command.spawn().expect("start recauda serve");
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = client.get(format!("{base}/healthz")).send().await {
                if r.status().is_success() {
                    break;
                }
            }
            assert!(Instant::now() < deadline, "node {i} did not come up; see {}/node-{i}.log", self.dir.display());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.starts.fetch_add(1, Ordering::Relaxed);
        *self.nodes[i].lock().unwrap() = Some(Node { child, base });
    }

    /// SIGKILL: no shutdown, no flush, requests in flight cut.
    fn kill(&self, i: usize) {
        if let Some(mut node) = self.nodes[i].lock().unwrap().take() {
            node.child.kill().unwrap();
            node.child.wait().unwrap();
            self.kills.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn kill_all(&self) {
        for i in 0..self.nodes.len() {
            self.kill(i);
        }
    }

    /// Starts again every node that was killed.
    async fn revive(&self, today: Option<&str>) {
        let _one_at_a_time = self.reviving.lock().await;
        for i in 0..self.nodes.len() {
            let dead = self.nodes[i].lock().unwrap().is_none();
            if dead {
                self.start(i, today).await;
            }
        }
    }

    /// The base URL of a live node (the first one from `pick`).
    fn base(&self, pick: usize) -> Option<String> {
        let n = self.nodes.len();
        (0..n).find_map(|k| self.nodes[(pick + k) % n].lock().unwrap().as_ref().map(|node| node.base.clone()))
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        self.kill_all();
    }
}

// ----------------------------------------------------------------------- flows

/// What Stripe does with a flow's checkout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Plan {
    Card,
    OxxoPaid,
    OxxoLapsed,
    Abandoned,
    WrongAmount,
    NullAmount,
    NullMetadata,
}

impl Plan {
    fn pick(rng: &mut Rng) -> Plan {
        match rng.below(100) {
            0..=44 => Plan::Card,
            45..=59 => Plan::OxxoPaid,
            60..=67 => Plan::OxxoLapsed,
            68..=77 => Plan::Abandoned,
            78..=84 => Plan::WrongAmount,
            85..=92 => Plan::NullAmount,
            _ => Plan::NullMetadata,
        }
    }
}

/// What the campaign did, for the report.
#[derive(Default)]
struct Tally {
    flows: usize,
    requests: usize,
    webhooks: usize,
    webhooks_lost: usize,
    injected: usize,
    plans: HashMap<String, usize>,
    /// Sessions Stripe took money on (id → the order's true total).
    paid_sessions: HashMap<String, i64>,
}

struct Campaign {
    fleet: Fleet,
    fake: Arc<Fake>,
    client: reqwest::Client,
    tally: Mutex<Tally>,
    statuses: Mutex<Vec<(String, u16)>>,
}

/// An answer: status and JSON, or `None` when the connection failed (the
/// node was killed under it).
type Answer = Option<(u16, Value)>;

impl Campaign {
    async fn post(&self, pick: usize, path: &str, body: &Value) -> Answer {
        let base = self.fleet.base(pick)?;
        self.tally.lock().unwrap().requests += 1;
        let r = self.client.post(format!("{base}{path}")).json(body).send().await.ok()?;
        let status = r.status().as_u16();
        let value = r.json().await.unwrap_or(Value::Null);
        self.statuses.lock().unwrap().push((path.to_string(), status));
        Some((status, value))
    }

    async fn deliver(&self, pick: usize, body: &str) -> Answer {
        let base = self.fleet.base(pick)?;
        self.tally.lock().unwrap().webhooks += 1;
        let signature = app::stripe::sign(WEBHOOK_SECRET, chrono::Utc::now().timestamp(), body.as_bytes());
        let r = self
            .client
            .post(format!("{base}/api/v1/stripe/webhook"))
            .header("content-type", "application/json")
            .header("stripe-signature", signature)
            .body(body.to_string())
            .send()
            .await
            .ok()?;
        let status = r.status().as_u16();
        assert!(matches!(status, 200 | 400 | 503), "webhook answered {status}");
        self.statuses.lock().unwrap().push(("webhook".into(), status));
        Some((status, r.json().await.unwrap_or(Value::Null)))
    }

    /// Maybe kills a node: at once, or a few milliseconds from now (while
    /// the next step's requests are in flight).
    fn maybe_kill(self: &Arc<Self>, rng: &mut Rng) {
        if !rng.chance(6) {
            return;
        }
        let node = rng.below(self.fleet.nodes.len());
        let delay = rng.below(3) as u64 * rng.below(25) as u64;
        let me = self.clone();
        if delay == 0 {
            me.fleet.kill(node);
        } else {
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(delay)).await;
                me.fleet.kill(node);
            });
        }
    }

    /// One flow, for `account`.
    async fn flow(self: Arc<Self>, account: String, mut rng: Rng) {
        let plan = Plan::pick(&mut rng);
        {
            let mut t = self.tally.lock().unwrap();
            t.flows += 1;
            *t.plans.entry(format!("{plan:?}")).or_default() += 1;
        }
        // The order.
        self.maybe_kill(&mut rng);
        let mut token = None;
        for _ in 0..20 {
            match self.post(rng.below(8), "/api/v1/orders", &json!({ "account": account })).await {
                Some((201, order)) => {
                    token = order["id"].as_str().map(str::to_string);
                    break;
                }
                // Created by a request whose answer was lost: it expires.
                Some((409, _)) => return,
                // The database busy or the node dying under the request.
                Some((503, _)) | None => tokio::time::sleep(Duration::from_millis(150)).await,
                Some((status, body)) => panic!("creating an order for {account}: {status} {body}"),
            }
        }
        let Some(token) = token else { return };

        // The checkout, with Stripe misbehaving now and then.
        if rng.chance(20) {
            let failures: Vec<u16> = match rng.below(5) {
                0 => vec![429],
                1 => vec![409, 429],
                2 => vec![500],
                3 => vec![400],
                _ => vec![500, 500, 500],
            };
            self.tally.lock().unwrap().injected += failures.len();
            self.fake.create_failures.lock().unwrap().extend(failures);
        } else if rng.chance(2) {
            self.tally.lock().unwrap().injected += 1;
            *self.fake.hang_next_creates.lock().unwrap() += 1;
        }
        self.maybe_kill(&mut rng);
        let mut session_id = None;
        for _ in 0..20 {
            match self.post(rng.below(8), &format!("/api/v1/orders/{token}/checkout"), &json!({})).await {
                Some((201, checkout)) => {
                    session_id =
                        checkout["redirect_url"].as_str().and_then(|u| u.rsplit('/').next()).map(str::to_string);
                    break;
                }
                // Refused by Stripe: the order failed, nothing charged.
                Some((502, body)) if body["error"]["code"] == "provider_refused" => return,
                // Stripe unreachable, or the order moved on: try again later.
                Some((503 | 409, _)) | None => tokio::time::sleep(Duration::from_millis(150)).await,
                Some((status, body)) => panic!("checkout of {account}: {status} {body}"),
            }
        }
        let Some(session_id) = session_id else { return };

        // What Stripe reports.
        let (amount, pi_id) = {
            let sessions = self.fake.sessions.lock().unwrap();
            (sessions[&session_id]["amount_total"].as_i64().unwrap(), format!("pi_campaign_{session_id}"))
        };
        let set = |status: &str, payment_status: &str, intent: Option<&str>| {
            let mut sessions = self.fake.sessions.lock().unwrap();
            let s = sessions.get_mut(&session_id).unwrap();
            s["status"] = json!(status);
            s["payment_status"] = json!(payment_status);
            if let Some(pi) = intent {
                s["payment_intent"] = json!(pi);
            }
            s.clone()
        };
        let voucher = |status: &str| {
            let mut pi = intent_fixture(&pi_id, status, amount);
            pi["payment_method_types"] = json!(["oxxo"]);
            if status == "requires_action" {
                pi["next_action"] = json!({
                    "type": "oxxo_display_details",
                    "oxxo_display_details": {
                        "expires_after": chrono::Utc::now().timestamp() + 3 * 86_400,
                        "hosted_voucher_url": format!("https://payments.stripe.com/oxxo/voucher/{pi_id}"),
                        "number": "12345678901234657890123456789012"
                    }
                });
            }
            self.fake.intents.lock().unwrap().insert(pi_id.clone(), pi);
        };
        let mut events: Vec<String> = Vec::new();
        let id = |n: usize| format!("evt_{session_id}_{n}");
        match plan {
            Plan::Card => {
                let s = set("complete", "paid", None);
                self.tally.lock().unwrap().paid_sessions.insert(session_id.clone(), amount);
                events.push(event(&id(1), "checkout.session.completed", &s));
            }
            Plan::OxxoPaid => {
                voucher("requires_action");
                let unpaid = set("complete", "unpaid", Some(&pi_id));
                events.push(event(&id(1), "checkout.session.completed", &unpaid));
                voucher("succeeded");
                let paid = set("complete", "paid", None);
                self.tally.lock().unwrap().paid_sessions.insert(session_id.clone(), amount);
                events.push(event(&id(2), "checkout.session.async_payment_succeeded", &paid));
            }
            Plan::OxxoLapsed => {
                voucher("requires_action");
                let unpaid = set("complete", "unpaid", Some(&pi_id));
                events.push(event(&id(1), "checkout.session.completed", &unpaid));
                voucher("canceled");
                events.push(event(&id(2), "checkout.session.async_payment_failed", &unpaid));
            }
            Plan::Abandoned => {}
            Plan::WrongAmount => {
                let s = {
                    let mut sessions = self.fake.sessions.lock().unwrap();
                    let s = sessions.get_mut(&session_id).unwrap();
                    s["amount_total"] = json!(amount + 100);
                    s["status"] = json!("complete");
                    s["payment_status"] = json!("paid");
                    s.clone()
                };
                events.push(event(&id(1), "checkout.session.completed", &s));
            }
            Plan::NullAmount | Plan::NullMetadata => {
                let mut s = set("complete", "paid", None);
                self.tally.lock().unwrap().paid_sessions.insert(session_id.clone(), amount);
                match plan {
                    Plan::NullAmount => s["amount_total"] = Value::Null,
                    _ => s["metadata"] = Value::Null,
                }
                events.push(event(&id(1), "checkout.session.completed", &s));
            }
        }
        // Delivered once to three times each, sometimes reordered, sometimes lost.
        let mut deliveries: Vec<String> = Vec::new();
        for e in &events {
            if rng.chance(10) {
                self.tally.lock().unwrap().webhooks_lost += 1;
                continue;
            }
            for _ in 0..1 + rng.below(3) {
                deliveries.push(e.clone());
            }
        }
        if rng.chance(30) {
            deliveries.reverse();
        }
        for body in deliveries {
            self.maybe_kill(&mut rng);
            if self.deliver(rng.below(8), &body).await.is_none() {
                self.tally.lock().unwrap().webhooks_lost += 1;
            }
        }
    }
}

// ------------------------------------------------------------------ invariants

async fn scalar(pool: &sqlx::AnyPool, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The invariants of the issue, against the database (`paid_sessions`:
/// what Stripe took money on, for "nothing lost").
async fn check_invariants(store: &Store, paid_sessions: &HashMap<String, i64>, when: &str) {
    let pool = store.pool();
    let doubled = scalar(
        pool,
        "SELECT COUNT(*) FROM (SELECT i.charge_id FROM payment_order_items i \
         JOIN payment_orders o ON o.id = i.order_id WHERE o.status = 'succeeded' \
         GROUP BY i.charge_id HAVING COUNT(*) > 1) d",
    )
    .await;
    assert_eq!(doubled, 0, "{when}: a charge covered by two succeeded orders");

    let series: Vec<(String, i64, i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT series, CAST(fiscal_year AS BIGINT), COUNT(*), CAST(MIN(number) AS BIGINT), \
         CAST(MAX(number) AS BIGINT), COUNT(DISTINCT number) FROM receipts GROUP BY series, fiscal_year",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for (s, year, count, min, max, distinct) in &series {
        assert_eq!((*min, *max, *distinct), (1, *count, *count), "{when}: folios of {s}-{year} not gapless");
        let counter = scalar(
            pool,
            &format!(
                "SELECT CAST(last_number AS BIGINT) FROM folio_counters WHERE series = '{s}' AND fiscal_year = {year}"
            ),
        )
        .await;
        assert_eq!(counter, *max, "{when}: the counter of {s}-{year} skipped or reused a number");
    }

    let held_paid = scalar(
        pool,
        "SELECT COUNT(*) FROM payment_order_items i JOIN payment_orders o ON o.id = i.order_id \
         JOIN charges c ON c.id = i.charge_id WHERE o.status IN ('created', 'pending') AND c.status = 'paid'",
    )
    .await;
    assert_eq!(held_paid, 0, "{when}: a live order holds a paid charge");
    let paid_unexplained = scalar(
        pool,
        "SELECT COUNT(*) FROM charges c WHERE c.status = 'paid' AND NOT EXISTS (SELECT 1 FROM payment_order_items i \
         JOIN payment_orders o ON o.id = i.order_id WHERE i.charge_id = c.id AND o.status = 'succeeded')",
    )
    .await;
    assert_eq!(paid_unexplained, 0, "{when}: a charge paid by no succeeded order");

    let without_receipt = scalar(
        pool,
        "SELECT COUNT(*) FROM payment_orders o WHERE o.status = 'succeeded' \
         AND NOT EXISTS (SELECT 1 FROM receipts r WHERE r.order_id = o.id)",
    )
    .await;
    assert_eq!(without_receipt, 0, "{when}: a succeeded order without its receipt");
    let receipts = scalar(pool, "SELECT CAST(COALESCE(SUM(total_centavos), 0) AS BIGINT) FROM receipts").await;
    let applied = scalar(
        pool,
        "SELECT CAST(COALESCE(SUM(amount_centavos), 0) AS BIGINT) FROM payment_attempts WHERE status = 'succeeded'",
    )
    .await;
    assert_eq!(receipts, applied, "{when}: the receipts do not add up to the applied payments");
    let succeeded_orders = scalar(pool, "SELECT COUNT(*) FROM payment_orders WHERE status = 'succeeded'").await;
    let receipt_count = scalar(pool, "SELECT COUNT(*) FROM receipts").await;
    assert_eq!(receipt_count, succeeded_orders, "{when}: receipts without a succeeded order");

    // The audit trail: unbroken, one entry per payment applied and per receipt.
    let check = store.verify_audit().await.unwrap();
    assert_eq!(check.first_bad, None, "{when}: the audit trail is broken");
    let applied_entries = scalar(pool, "SELECT COUNT(*) FROM audit_log WHERE action = 'payment.applied'").await;
    let succeeded_attempts = scalar(pool, "SELECT COUNT(*) FROM payment_attempts WHERE status = 'succeeded'").await;
    assert_eq!(applied_entries, succeeded_attempts, "{when}: payments applied without their audit entry");
    let issued_entries = scalar(pool, "SELECT COUNT(*) FROM audit_log WHERE action = 'receipt.issued'").await;
    assert_eq!(issued_entries, receipt_count, "{when}: receipts issued without their audit entry");

    // Nothing lost: money Stripe took is applied or recorded.
    let attempts: Vec<(String, String)> = sqlx::query_as(
        "SELECT provider_ref, status FROM payment_attempts WHERE provider = 'stripe' AND provider_ref IS NOT NULL",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let recorded: HashSet<String> = sqlx::query_scalar::<_, String>(
        "SELECT a.provider_ref FROM overpayments o JOIN payment_attempts a ON a.id = o.attempt_id \
         WHERE a.provider_ref IS NOT NULL",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    .into_iter()
    .collect();
    let status: HashMap<String, String> = attempts.into_iter().collect();
    for session in paid_sessions.keys() {
        if let Some(s) = status.get(session) {
            assert!(
                s == "succeeded" || recorded.contains(session) || s == "pending",
                "{when}: Stripe took money on {session} but its attempt is {s} with nothing recorded"
            );
        }
    }
}

/// The final pass: every session reaches its last state at Stripe; two
/// days later a server starts and is killed in the middle of its start-up
/// pass and sweep; a day after that every server starts, and the start-up
/// pass and the sweep settle every order, asking Stripe once per attempt.
async fn settle(campaign: &Campaign, store: &Store, mid_sweep_kill_ms: u64) -> (usize, usize) {
    campaign.fleet.kill_all();
    let day = |n| (chrono::Utc::now() + chrono::Duration::days(n)).date_naive().to_string();
    // Stripe's side, days later: open sessions expired, vouchers lapsed or
    // paid as planned; a request re-sent now is refused (its expiry passed).
    for s in campaign.fake.sessions.lock().unwrap().values_mut() {
        if s["status"] == "open" {
            s["status"] = json!("expired");
        }
    }
    *campaign.fake.refuse_expiring_before.lock().unwrap() = Some(chrono::Utc::now().timestamp() + 86_400);
    // Two days later one server starts, and is killed a moment into its
    // start-up pass and sweep (Stripe answering slowly, so that the kill
    // lands mid-sweep).
    *campaign.fake.retrieve_delay.lock().unwrap() = Duration::from_millis(100);
    campaign.fleet.start(0, Some(&day(2))).await;
    tokio::time::sleep(Duration::from_millis(mid_sweep_kill_ms)).await;
    campaign.fleet.kill(0);
    *campaign.fake.retrieve_delay.lock().unwrap() = Duration::ZERO;
    let paid = campaign.tally.lock().unwrap().paid_sessions.clone();
    check_invariants(store, &paid, "after a sweep was killed").await;
    // A day after that every server starts at once: their sweeps (one
    // holds the lease) must ask Stripe about each attempt left once.
    let pending_with_session: HashSet<String> = sqlx::query_scalar::<_, String>(
        "SELECT provider_ref FROM payment_attempts WHERE status = 'pending' AND provider_ref IS NOT NULL",
    )
    .fetch_all(store.pool())
    .await
    .unwrap()
    .into_iter()
    .collect();
    let asked_before = campaign.fake.retrieved.lock().unwrap().len();
    for i in 0..campaign.fleet.nodes.len() {
        campaign.fleet.start(i, Some(&day(3))).await;
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let live =
            scalar(store.pool(), "SELECT COUNT(*) FROM payment_orders WHERE status IN ('created', 'pending')").await;
        if live == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{live} orders still live after the restart and the sweep");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let asked: Vec<String> = campaign.fake.retrieved.lock().unwrap()[asked_before..].to_vec();
    let mut per_session: HashMap<&str, usize> = HashMap::new();
    for s in &asked {
        *per_session.entry(s.as_str()).or_default() += 1;
    }
    for (session, times) in &per_session {
        assert_eq!(*times, 1, "the sweeps asked Stripe about {session} {times} times");
    }
    for session in &pending_with_session {
        assert!(per_session.contains_key(session.as_str()), "pending {session} was never asked about");
    }
    (pending_with_session.len(), asked.len())
}

// --------------------------------------------------------------------- running

fn padron(accounts: usize) -> String {
    let mut csv = String::from("account,kind,rfc,name,colonia,concept,period,due_date,amount\n");
    for i in 0..accounts {
        csv.push_str(&format!(
            "P-{:06},predial,,Contribuyente {i},Centro,predial,2026-B6,2026-12-31,{}.{:02}\n",
            700_000 + i,
            100 + i % 900,
            i % 100
        ));
    }
    csv
}

async fn run(label: &str, database_url: &str, nodes: usize) -> String {
    let flows: usize = std::env::var("RECAUDA_CAMPAIGN_FLOWS").ok().and_then(|v| v.parse().ok()).unwrap_or(100);
    let seed: u64 = std::env::var("RECAUDA_CAMPAIGN_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
    }) | 1;
    println!("campaign {label}: {flows} flows, RECAUDA_CAMPAIGN_SEED={seed}");
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(database_url).await.unwrap();
    let rows = server::import::parse_padron(padron(flows).as_bytes()).unwrap();
    store.import_padron(&rows, &|_| {}).await.unwrap();
    let (fake, stripe_base) = spawn_fake().await;
    let campaign = Arc::new(Campaign {
        fleet: Fleet::new(dir.path(), database_url, &stripe_base, nodes),
        fake,
        client: reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap(),
        tally: Mutex::new(Tally::default()),
        statuses: Mutex::new(Vec::new()),
    });
    campaign.fleet.revive(None).await;
    // A killed server is started again at once, as a supervisor would.
    let reviver = {
        let campaign = campaign.clone();
        tokio::spawn(async move {
            while !campaign.fleet.settling.load(Ordering::Relaxed) {
                campaign.fleet.revive(None).await;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    let mut rng = Rng(seed);
    let started = Instant::now();
    let wave = 4;
    for first in (0..flows).step_by(wave) {
        let mut tasks = Vec::new();
        for i in first..(first + wave).min(flows) {
            let flow_rng = Rng(rng.next() | 1);
            tasks.push(tokio::spawn(campaign.clone().flow(format!("P-{:06}", 700_000 + i), flow_rng)));
        }
        for t in tasks {
            t.await.unwrap_or_else(|e| panic!("campaign {label} (seed {seed}): {e}"));
        }
        // A kill scheduled in the wave may land after it: let it land.
        tokio::time::sleep(Duration::from_millis(30)).await;
        let paid = campaign.tally.lock().unwrap().paid_sessions.clone();
        check_invariants(&store, &paid, &format!("{label} after flow {} (seed {seed})", first + wave)).await;
    }
    campaign.fleet.settling.store(true, Ordering::Relaxed);
    reviver.await.unwrap();
    let (pending, asked) = settle(&campaign, &store, 10 + rng.below(300) as u64).await;
    let paid = campaign.tally.lock().unwrap().paid_sessions.clone();
    check_invariants(&store, &paid, &format!("{label} at the end (seed {seed})")).await;
    let server_errors =
        campaign.statuses.lock().unwrap().iter().filter(|(_, s)| *s >= 500 && !matches!(s, 502 | 503)).count();
    assert_eq!(server_errors, 0, "server errors: {:?}", campaign.statuses.lock().unwrap());
    let succeeded = scalar(store.pool(), "SELECT COUNT(*) FROM payment_orders WHERE status = 'succeeded'").await;
    let receipts = scalar(store.pool(), "SELECT COUNT(*) FROM receipts").await;
    store.close().await;
    let t = campaign.tally.lock().unwrap();
    let report = format!(
        "CAMPAIGN {label}: flows={} servers={nodes} kills={} starts={} requests={} webhooks={} lost={} \
         injected_stripe_errors={} plans={:?} succeeded={succeeded} receipts={receipts} settled_by_sweep={pending} \
         stripe_asked_at_the_end={asked} invariants=held seconds={}",
        t.flows,
        campaign.fleet.kills.load(Ordering::Relaxed),
        campaign.fleet.starts.load(Ordering::Relaxed),
        t.requests,
        t.webhooks,
        t.webhooks_lost,
        t.injected,
        {
            let mut p: Vec<_> = t.plans.iter().collect();
            p.sort();
            p
        },
        started.elapsed().as_secs()
    );
    println!("{report}");
    assert!(campaign.fleet.kills.load(Ordering::Relaxed) > 0, "no server was killed");
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn campaign_sqlite_one_server_killed_at_random() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("campaign.db").display());
    run("sqlite", &url, 1).await;
}

/// Two `recauda serve` processes on one PostgreSQL database: orders,
/// checkouts and webhooks go to either; at the end both restart at once
/// and their sweeps ask Stripe about each attempt once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn campaign_postgres_two_servers_killed_at_random() {
    crate::store_story::on_fresh_postgres("campaign", |url| async move {
        run("postgres", &url, 2).await;
    })
    .await;
}

/// The checker itself: clean after a real payment, and each kind of
/// damage it guards against is reported.
#[tokio::test]
async fn the_invariants_catch_gaps_stray_paid_charges_and_lost_money() {
    let app = crate::common::spawn_app().await;
    let (status, order) = app.post_json("/api/v1/orders", &json!({ "account": "P-000002" })).await;
    assert_eq!(status, 201, "{order}");
    let token = order["id"].as_str().unwrap().to_string();
    crate::common::pay_as_stripe(&app, &token).await;
    let order_id = crate::common::order_id(&app, &token).await;
    let session = format!("cs_test_{order_id}");
    let paid: HashMap<String, i64> = [(session.clone(), 64_000)].into_iter().collect();
    check_invariants(&app.store, &paid, "clean").await;

    async fn refused(store: &Store, paid: &HashMap<String, i64>, damage: &str, undo: &str) {
        sqlx::query(damage).execute(store.pool()).await.unwrap();
        let (store2, paid2) = (store.clone(), paid.clone());
        let outcome = tokio::spawn(async move { check_invariants(&store2, &paid2, "damaged").await }).await;
        assert!(outcome.is_err(), "not caught: {damage}");
        sqlx::query(undo).execute(store.pool()).await.unwrap();
        check_invariants(store, paid, "repaired").await;
    }
    // A folio gap, a counter that skipped a number.
    refused(&app.store, &paid, "UPDATE receipts SET number = number + 1", "UPDATE receipts SET number = number - 1")
        .await;
    refused(
        &app.store,
        &paid,
        "UPDATE folio_counters SET last_number = last_number + 1",
        "UPDATE folio_counters SET last_number = last_number - 1",
    )
    .await;
    // A charge paid outside any succeeded order.
    refused(
        &app.store,
        &paid,
        "UPDATE charges SET status = 'paid' WHERE status = 'open' AND account_id = (SELECT id FROM accounts WHERE number = 'A-000003') AND period = '2026-09'",
        "UPDATE charges SET status = 'open' WHERE account_id = (SELECT id FROM accounts WHERE number = 'A-000003') AND period = '2026-09'",
    )
    .await;
    // Money Stripe took, neither applied nor recorded.
    refused(
        &app.store,
        &paid,
        "UPDATE payment_attempts SET status = 'failed' WHERE provider_ref LIKE 'cs_test_%'",
        "UPDATE payment_attempts SET status = 'succeeded' WHERE provider_ref LIKE 'cs_test_%'",
    )
    .await;
    // Receipts that do not add up.
    refused(
        &app.store,
        &paid,
        "UPDATE receipts SET total_centavos = total_centavos + 1",
        "UPDATE receipts SET total_centavos = total_centavos - 1",
    )
    .await;
}
