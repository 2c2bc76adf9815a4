//! The background jobs of a `recauda serve` process. Pages and API reads
//! never write: the writes that time alone calls for happen here.
//!
//! | job | when | several processes on one PostgreSQL |
//! |-----|------|-------------------------------------|
//! | expire orders past their day | at start-up (before the first request) and every minute | each runs it; the rows are locked `FOR UPDATE SKIP LOCKED`, so an order expires once |
//! | expire permit requests unpaid past their due date or uncorrected for 30 days | with the orders' expiry | the same: `SKIP LOCKED` |
//! | Stripe healing sweep (and refunds of overpayments) | at start-up and every 5 minutes | one at a time: the holder of the `stripe_sweep` lease (`job_leases`) |
//! | ask Stripe about an attempt whose citizen came back from Checkout | on request of the order page | each serves its own pages' requests |
//! | sign receipts stored unsigned (older versions) | once at start-up | harmless twice: a signature is written once |
//! | reload the receipt keys when their file changed (`recauda llaves rotar`) | every 5 seconds | each reads the one shared file |
//!
//! Every job stops with the server (the handles abort their tasks when
//! dropped).

use std::time::Duration;

use app::state::AppState;

/// How often live orders past their expiry are expired.
pub const EXPIRY_INTERVAL: Duration = Duration::from_secs(60);
/// How often the healing sweep runs (it also runs once at start-up).
pub const HEALING_INTERVAL: Duration = Duration::from_secs(5 * 60);
/// How often the receipt key file is checked for a rotation.
pub const KEY_RELOAD_INTERVAL: Duration = Duration::from_secs(5);
/// The sweep's lease: a process that died holding it gives it up after this.
pub const SWEEP_LEASE: Duration = Duration::from_secs(2 * 5 * 60);

/// A background task that ends when its handle is dropped (the server
/// stopped, or a test killed it).
pub struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The running jobs of one process.
pub struct Jobs {
    _tasks: Vec<AbortOnDrop>,
}

/// Expires what is due now, then starts every job.
pub async fn start(state: &AppState) -> Jobs {
    state.store.start_lookup_batches();
    expire_orders(state).await;
    let mut tasks = vec![AbortOnDrop(tokio::spawn(expiry_loop(state.clone())))];
    if state.stripe.is_some() {
        tasks.push(AbortOnDrop(tokio::spawn(healing_loop(state.clone()))));
    }
    if let Some(rx) = state.stripe_refresh.take_receiver() {
        tasks.push(AbortOnDrop(tokio::spawn(app::payments::stripe_refresh_worker(state.clone(), rx))));
    }
    tasks.push(AbortOnDrop(tokio::spawn(key_reload_loop(state.clone()))));
    let signer = state.clone();
    tasks.push(AbortOnDrop(tokio::spawn(async move {
        match app::receipts::sign_unsigned(&signer).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(signed = n, "receipts signed at start-up"),
            Err(e) => tracing::warn!(error = %e, "receipts not signed at start-up"),
        }
    })));
    Jobs { _tasks: tasks }
}

#[tracing::instrument(name = "job.expire_orders", skip_all)]
async fn expire_orders(state: &AppState) {
    match state.store.expire_due_orders(state.clock.now()).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(expired = n, "payment orders expired"),
        Err(e) => tracing::warn!(error = %e, "payment orders not expired this time"),
    }
    // After the orders: a request whose order just expired is free to expire.
    match state.store.expire_permit_requests(state.clock.now(), state.clock.today()).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(expired = n, "permit requests expired"),
        Err(e) => tracing::warn!(error = %e, "permit requests not expired this time"),
    }
}

/// Takes a rotated key file without a restart; an unreadable or invalid
/// file keeps the keys in use (and is reported each time).
async fn key_reload_loop(state: AppState) {
    let mut every = tokio::time::interval(KEY_RELOAD_INTERVAL);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if let Err(e) = state.receipt_keys.reload_if_changed() {
            tracing::error!(error = %e, "receipt key file not reloaded; the keys in use stay");
        }
    }
}

async fn expiry_loop(state: AppState) {
    let mut every = tokio::time::interval(EXPIRY_INTERVAL);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    every.tick().await; // the first pass ran at start-up
    loop {
        every.tick().await;
        expire_orders(&state).await;
    }
}

/// [`app::payments::heal_stripe_attempts`] at start-up and every
/// [`HEALING_INTERVAL`], in the process that holds the sweep's lease.
async fn healing_loop(state: AppState) {
    let holder = app::tokens::random_token();
    let mut every = tokio::time::interval(HEALING_INTERVAL);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let now = state.clock.now();
        match state.store.take_lease("stripe_sweep", &holder, now, SWEEP_LEASE).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::debug!("healing sweep: another process holds the lease");
                continue;
            }
            Err(e) => {
                tracing::warn!(error = %e, "healing sweep: lease not taken");
                continue;
            }
        }
        match app::payments::heal_stripe_attempts(&state, now).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(healed = n, "healing sweep"),
            Err(e) => tracing::warn!(error = %e, "healing sweep failed"),
        }
    }
}
