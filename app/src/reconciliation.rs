//! Reconciliation with Stripe (tesorero), its services: the payouts Stripe
//! sent to the treasury's bank account, each with the balance transactions
//! it carries (charges, refunds, disputes, fees), set against what Recauda
//! recorded.
//!
//! * [`FetchedPayout`] is what [`crate::stripe_payouts`] reads from Stripe;
//!   the store keeps it ([`crate::store::Store::store_payout`], one
//!   transaction per payout, upserted by Stripe's ids) with each item
//!   matched to a payment order: by the order's token that the charge's
//!   metadata carries, else by the PaymentIntent of a Recauda attempt, else
//!   by the charge or PaymentIntent of an item already matched (a refund, a
//!   dispute).
//! * [`PayoutReport::build`] (pure, in [`crate::domain::reconciliation`])
//!   judges each item ([`Verdict`]) and adds up the payout: gross, fees,
//!   refunds, disputes and net; a payout with nothing matched "requiere
//!   investigación". [`report_csv`] writes it as CSV.
//! * [`overdue`] (pure) lists the Stripe receipts that should already be in
//!   a payout ([`CARD_PAYOUT_BUSINESS_DAYS`], [`OXXO_PAYOUT_DAYS`]) and are
//!   in none.
//! * [`fetch_payouts`] and [`heal`] are the services behind the pages: the
//!   first asks Stripe (a POST, never a GET), the second applies a payment
//!   Stripe took and Recauda missed through THE provider-event path
//!   ([`crate::payments::apply_stripe_session_event`]'s), with the same
//!   event the healing sweep would build, audited `reconciliation.healed`.

pub use crate::domain::reconciliation::*;

use crate::collections::csv_cell;

/// A payout's report as CSV (UTF-8 with BOM, CRLF, amounts as plain decimals,
/// every cell neutralised against formula injection by [`csv_cell`]).
pub fn report_csv(report: &PayoutReport) -> String {
    let mut out = String::from("\u{feff}");
    let mut row = |cells: &[&str]| {
        let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    };
    row(&[
        "seccion",
        "deposito",
        "movimiento",
        "tipo",
        "fecha",
        "importe",
        "comision",
        "neto",
        "moneda",
        "origen",
        "payment_intent",
        "orden",
        "estado_orden",
        "resultado",
        "descripcion",
    ]);
    let p = &report.payout;
    for l in &report.lines {
        let i = &l.item;
        let order = i.order.as_ref();
        row(&[
            "movimiento",
            &p.id,
            &i.id,
            l.kind.label_es(),
            &i.created.format("%Y-%m-%d").to_string(),
            &i.amount.to_api_string(),
            &i.fee.to_api_string(),
            &i.net.to_api_string(),
            &i.currency,
            i.source_id.as_deref().unwrap_or(""),
            i.payment_intent.as_deref().unwrap_or(""),
            order.map(|o| o.reference.as_str()).unwrap_or(""),
            order.map(|o| o.status.label_es()).unwrap_or(""),
            l.verdict.code(),
            i.description.as_deref().unwrap_or(""),
        ]);
    }
    let arrival = p.arrival_date.to_string();
    for (what, amount) in [
        ("bruto", report.gross),
        ("comisiones", report.fees),
        ("reembolsos", report.refunds),
        ("contracargos", report.disputes),
        ("otros", report.other),
        ("neto", report.net),
        ("deposito", p.amount),
    ] {
        row(&[
            "resumen",
            &p.id,
            "",
            what,
            &arrival,
            &amount.to_api_string(),
            "",
            "",
            &p.currency,
            "",
            "",
            "",
            "",
            report.status.code(),
            "",
        ]);
    }
    out
}

pub use service::{fetch_payouts, heal, FetchOutcome, HealOutcome, ReconciliationError, FETCH_BUDGET};

mod service {
    use chrono::{DateTime, Utc};

    use crate::domain::payment::{AttemptStatus, EventOutcome, Provider, Transition};
    use crate::payments::{self, PaymentError};
    use crate::state::AppState;
    use crate::store::{HealNote, StoreError};
    use crate::stripe::{self, StripeError};
    use crate::stripe_payouts;

    use super::{ItemKind, Verdict};

    /// Why a fetch or a heal was refused or failed.
    #[derive(Debug, thiserror::Error)]
    pub enum ReconciliationError {
        #[error("Stripe is not configured")]
        NoStripe,
        #[error("payout item not found")]
        ItemNotFound,
        #[error("the item is not a payment to apply")]
        NotHealable(Verdict),
        #[error("no attempt of the order matches the payment")]
        NoAttempt,
        #[error("Stripe does not report the payment as paid")]
        NotPaid,
        #[error(transparent)]
        Stripe(#[from] StripeError),
        #[error(transparent)]
        Payment(#[from] PaymentError),
        #[error(transparent)]
        Store(#[from] StoreError),
    }

    impl ReconciliationError {
        pub fn status(&self) -> u16 {
            match self {
                ReconciliationError::NoStripe => 503,
                ReconciliationError::ItemNotFound => 404,
                ReconciliationError::NotHealable(_) | ReconciliationError::NoAttempt => 409,
                ReconciliationError::NotPaid => 409,
                ReconciliationError::Stripe(_) => 502,
                ReconciliationError::Payment(e) => e.status(),
                ReconciliationError::Store(_) => 503,
            }
        }

        pub fn message_es(&self) -> String {
            match self {
                ReconciliationError::NoStripe => {
                    "Stripe no está configurado en este servidor: no hay depósitos que traer.".into()
                }
                ReconciliationError::ItemNotFound => "No existe ese movimiento en este depósito.".into(),
                ReconciliationError::NotHealable(v) => {
                    format!("Este movimiento no es un pago por aplicar ({}).", v.label_es())
                }
                ReconciliationError::NoAttempt => {
                    "Ningún intento de pago de la orden corresponde a este cobro de Stripe; revíselo a mano.".into()
                }
                ReconciliationError::NotPaid => {
                    "Stripe no reporta la sesión de pago como pagada; no se aplicó nada.".into()
                }
                ReconciliationError::Stripe(e) => format!("Stripe no respondió como se esperaba: {}", e.detail),
                ReconciliationError::Payment(e) => e.message(crate::i18n::Lang::Es),
                ReconciliationError::Store(e) => e.message_es(),
            }
        }
    }

    /// What a fetch brought.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct FetchOutcome {
        /// Payouts Stripe listed.
        pub listed: usize,
        /// Of them, payouts new or changed in Recauda.
        pub changed: usize,
        /// A payout that could not be fetched whole (nothing of it stored),
        /// and why; the ones after it were not asked.
        pub failed: Option<(String, String)>,
        /// Payouts left unasked when [`FETCH_BUDGET`] ran out (the request
        /// must answer before the server's 30-s limit): fetching again, or
        /// a shorter range, brings them.
        pub left: usize,
    }

    /// The longest one fetch keeps asking Stripe for payouts' transactions.
    pub const FETCH_BUDGET: std::time::Duration = std::time::Duration::from_secs(20);

    /// Asks Stripe for the payouts created since `since` and, for each, all
    /// of its balance transactions; stores each payout whole, in its own
    /// transaction ([`crate::store::Store::store_payout`]). A payout whose
    /// transactions could not all be read is not stored at all.
    #[tracing::instrument(name = "reconciliation.fetch_payouts", skip(state))]
    pub async fn fetch_payouts(
        state: &AppState,
        since: DateTime<Utc>,
        actor: &str,
    ) -> Result<FetchOutcome, ReconciliationError> {
        let config = state.stripe.clone().ok_or(ReconciliationError::NoStripe)?;
        let started = std::time::Instant::now();
        let payouts = stripe_payouts::list_payouts(&config, since).await?;
        let mut outcome = FetchOutcome { listed: payouts.len(), ..FetchOutcome::default() };
        let total = payouts.len();
        for (asked, payout) in payouts.into_iter().enumerate() {
            if started.elapsed() >= FETCH_BUDGET {
                outcome.left = total - asked;
                tracing::warn!(
                    left = outcome.left,
                    "reconciliation: time budget spent; the rest waits for another fetch"
                );
                break;
            }
            let items = match stripe_payouts::payout_items(&config, &payout.id).await {
                Ok(items) => items,
                Err(e) => {
                    tracing::warn!(payout = %payout.id, error = %e, "reconciliation: a payout's transactions could not be read; nothing of it stored");
                    outcome.failed = Some((payout.id.clone(), e.detail.clone()));
                    break;
                }
            };
            let fetched = super::FetchedPayout { items, ..payout };
            if state.store.store_payout(&fetched, actor, state.clock.now()).await? {
                outcome.changed += 1;
            }
        }
        Ok(outcome)
    }

    /// What "Aplicar" did.
    #[derive(Clone, Debug, PartialEq)]
    pub enum HealOutcome {
        /// Applied now: the order succeeded and its receipt was issued.
        Applied(EventOutcome),
        /// The same event was already applied: nothing changed.
        AlreadyApplied,
    }

    /// Applies a charge Stripe took whose order Recauda never saw paid: finds
    /// the order's Stripe attempt whose Checkout Session has this
    /// PaymentIntent, asks Stripe for the session, and applies what the
    /// healing sweep would ([`payments::heal_event`]: the same event id, the
    /// same event) through the provider-event path, which audits
    /// `reconciliation.healed` in its transaction. A second call is a
    /// duplicate of the same event and changes nothing.
    #[tracing::instrument(name = "reconciliation.heal", skip(state))]
    pub async fn heal(
        state: &AppState,
        payout_id: &str,
        item_id: &str,
        actor: &str,
    ) -> Result<HealOutcome, ReconciliationError> {
        let config = state.stripe.clone().ok_or(ReconciliationError::NoStripe)?;
        let item = state.store.payout_item(payout_id, item_id).await?.ok_or(ReconciliationError::ItemNotFound)?;
        let verdict = Verdict::of(&item);
        let (Some(order), ItemKind::Charge, Verdict::NotApplied) = (&item.order, item.item_kind(), verdict) else {
            return Err(ReconciliationError::NotHealable(verdict));
        };
        let attempts = state.store.attempts_of_order(order.id).await?;
        let mut candidates: Vec<_> = attempts
            .into_iter()
            .filter(|a| a.provider == Provider::Stripe && a.provider_ref.is_some())
            .filter(|a| a.payment_intent.is_none() || a.payment_intent == item.payment_intent)
            .filter(|a| !matches!(a.status, AttemptStatus::Succeeded | AttemptStatus::Refunded))
            .collect();
        // The attempt that already names this payment first, then the latest.
        candidates.sort_by_key(|a| (a.payment_intent.is_none(), std::cmp::Reverse(a.id)));
        for attempt in candidates {
            let session_id = attempt.provider_ref.clone().expect("filtered");
            let session = stripe::retrieve_session(&config, &session_id).await?;
            if item.payment_intent.is_some() && session.payment_intent != item.payment_intent {
                continue;
            }
            let Some((event_id, kind)) = payments::heal_event(&session, &attempt) else {
                return Err(ReconciliationError::NotPaid);
            };
            if !matches!(session.payment_status.as_deref(), Some("paid" | "no_payment_required")) {
                return Err(ReconciliationError::NotPaid);
            }
            let note =
                HealNote { actor: actor.to_string(), payout_id: payout_id.to_string(), item_id: item_id.to_string() };
            let outcome = payments::apply_stripe_session_event_noting(
                state,
                &event_id,
                kind,
                &session,
                Some(item.created),
                Some(&note),
            )
            .await?;
            tracing::info!(order_id = order.id, attempt_id = attempt.id, ?outcome, "reconciliation: heal");
            return Ok(match outcome {
                EventOutcome::Duplicate | EventOutcome::Applied(Transition::AlreadyThere(_)) => {
                    HealOutcome::AlreadyApplied
                }
                other => HealOutcome::Applied(other),
            });
        }
        Err(ReconciliationError::NoAttempt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::reconciliation::tests::{item as any_item, payout};

    /// A charge of `amount` matched to no order.
    fn item(id: &str, amount: i64) -> StoredItem {
        any_item(id, "charge", "charge", amount, 0, None)
    }

    #[test]
    fn the_csv_neutralises_what_stripe_and_citizens_wrote() {
        let mut hostile = item("h", 5_000);
        hostile.description = Some("=HYPERLINK(\"http://x\",\"pagar\")".into());
        hostile.source_id = Some("@SUM(A1)".into());
        let r = PayoutReport::build(payout(5_000), vec![hostile]);
        let csv = report_csv(&r);
        assert!(csv.starts_with('\u{feff}'));
        assert!(csv.contains("\"'=HYPERLINK(\"\"http://x\"\",\"\"pagar\"\")\""), "{csv}");
        assert!(csv.contains(",'@SUM(A1),"), "{csv}");
        assert!(csv.contains(",50.00,0.00,50.00,"), "{csv}");
        assert!(csv.contains("resumen,po_1,,neto,2026-11-25,50.00,"), "{csv}");
        assert!(csv.contains(",requiere_investigacion,"), "{csv}");
        assert!(csv.lines().all(|l| !l.starts_with('=')));
    }
}
