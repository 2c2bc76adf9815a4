//! Official receipts (recibos oficiales): their verification URL (the QR
//! code), and the verdict anyone gets at `/v/<folio>?s=…`.
//!
//! The receipt itself is issued and signed by the store in the transaction
//! that marks the payment succeeded
//! ([`crate::store::Store::apply_provider_event`]) with the keys of
//! [`crate::receipt_keys`]: an Ed25519 signature over its facts (folio,
//! total, date, account; [`crate::domain::receipt_sig`]). Reading a receipt
//! never writes.

use serde::Serialize;

use crate::domain::money::Centavos;
use crate::domain::payment::Method;
use crate::i18n::Lang;

/// What the verification of a receipt concluded, in words for people.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum VerdictKind {
    /// Green: issued by this treasury with these amounts.
    Authentic,
    /// Amber: genuinely signed, but by the demonstration provider
    /// ([`crate::domain::folio::DEMO_SERIES`]): no money moved, no value.
    Demo,
    /// Red: the code does not match the receipt (altered or forged).
    Forged,
    /// Grey: the treasury cancelled it (the reason is shown).
    Cancelled,
    /// No receipt with this folio.
    Unknown,
}

impl VerdictKind {
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictKind::Authentic => "authentic",
            VerdictKind::Demo => "demo",
            VerdictKind::Forged => "forged",
            VerdictKind::Cancelled => "cancelled",
            VerdictKind::Unknown => "unknown",
        }
    }

    /// The kind named by [`VerdictKind::as_str`] (the API's `verdict`).
    pub fn parse(s: &str) -> Option<VerdictKind> {
        [VerdictKind::Authentic, VerdictKind::Demo, VerdictKind::Forged, VerdictKind::Cancelled, VerdictKind::Unknown]
            .into_iter()
            .find(|k| k.as_str() == s)
    }

    /// The verdict's headline (page title, API message, CLI).
    pub fn title(self, lang: Lang) -> &'static str {
        match self {
            VerdictKind::Authentic => lang.pick("Recibo auténtico", "Authentic receipt"),
            VerdictKind::Demo => {
                lang.pick("Recibo de demostración — sin validez", "Demonstration receipt — no legal value")
            }
            VerdictKind::Forged => lang.pick("Recibo alterado o falso", "Altered or forged receipt"),
            VerdictKind::Cancelled => lang.pick("Recibo cancelado", "Cancelled receipt"),
            VerdictKind::Unknown => lang.pick("Folio desconocido", "Unknown folio"),
        }
    }

    /// What the verdict means for whoever holds the paper.
    pub fn explanation(self, lang: Lang) -> &'static str {
        match self {
            VerdictKind::Authentic => lang.pick(
                "Este recibo fue emitido por la tesorería con estos datos. Compárelos con el papel: deben ser iguales.",
                "This receipt was issued by the treasury with these details. Compare them with the paper: they must match.",
            ),
            VerdictKind::Demo => lang.pick(
                "Este recibo se emitió en el modo de demostración del portal: no se pagó dinero real y no ampara ningún pago.",
                "This receipt was issued by the portal's demonstration mode: no real money was paid and it covers no payment.",
            ),
            VerdictKind::Forged => lang.pick(
                "El código no corresponde a un recibo emitido por la tesorería. No acepte este recibo como comprobante de pago.",
                "The code does not match a receipt issued by the treasury. Do not accept this receipt as proof of payment.",
            ),
            VerdictKind::Cancelled => lang.pick(
                "La tesorería canceló este recibo; ya no ampara el pago.",
                "The treasury cancelled this receipt; it no longer covers the payment.",
            ),
            VerdictKind::Unknown => {
                lang.pick("No existe un recibo con ese folio.", "There is no receipt with that folio.")
            }
        }
    }

    /// The icon beside the headline (decorative: the words say it all).
    pub fn icon(self) -> &'static str {
        match self {
            VerdictKind::Authentic => "✔",
            VerdictKind::Demo => "⚠",
            VerdictKind::Forged => "✖",
            VerdictKind::Cancelled => "⊘",
            VerdictKind::Unknown => "?",
        }
    }
}

/// The public facts shown with an authentic (or cancelled) receipt, to
/// compare with the paper. The payer's name is masked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PublicReceipt {
    pub folio: String,
    pub issued_on: chrono::NaiveDate,
    pub issued_at: chrono::DateTime<chrono::Utc>,
    pub account: String,
    pub payer: String,
    pub total: Centavos,
    pub method: Option<Method>,
    pub items: Vec<PublicItem>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PublicItem {
    pub concept: String,
    pub period: String,
    pub total: Centavos,
}

/// How a payment method is written on a receipt.
pub fn method_label(method: Option<Method>, lang: Lang) -> &'static str {
    match method {
        Some(Method::Card) => lang.pick("Tarjeta", "Card"),
        Some(Method::Oxxo) => lang.pick("Efectivo en OXXO", "Cash at OXXO"),
        Some(Method::Spei) => lang.pick("Transferencia SPEI", "SPEI transfer"),
        Some(Method::Cash) => lang.pick("Efectivo", "Cash"),
        Some(Method::Cheque) => lang.pick("Cheque", "Cheque"),
        Some(Method::Transfer) => lang.pick("Transferencia bancaria", "Bank transfer"),
        None => lang.pick("Pago en línea", "Online payment"),
    }
}

#[cfg(feature = "ssr")]
pub use service::*;

#[cfg(feature = "ssr")]
mod service {
    use super::{PublicItem, PublicReceipt, VerdictKind};
    use crate::domain::folio::Folio;
    use crate::domain::receipt_sig::{verify, FactsError, ReceiptFacts, Verdict};
    use crate::privacy::mask_name;
    use crate::state::AppState;
    use crate::store::{Receipt, ReceiptStatus, StoreError};

    /// The signed facts of a stored receipt.
    pub fn facts_of(r: &Receipt) -> Result<ReceiptFacts, FactsError> {
        ReceiptFacts::new(r.folio.clone(), r.total, r.issued_on, &r.account)
    }

    fn unavailable(e: StoreError) -> ReceiptError {
        tracing::error!(error = %e, cause = ?std::error::Error::source(&e), "receipts: store failed");
        ReceiptError::Unavailable
    }

    #[derive(Debug, thiserror::Error)]
    pub enum ReceiptError {
        #[error("the database is unavailable")]
        Unavailable,
        #[error("the receipt's facts cannot be signed: {0}")]
        Facts(FactsError),
    }

    /// Signs, once, every receipt stored without a signature (issued before
    /// receipts were signed at issue): the start-up job, never a reader.
    /// Returns how many it signed.
    pub async fn sign_unsigned(state: &AppState) -> Result<usize, ReceiptError> {
        let mut signed = 0;
        loop {
            let batch = state.store.unsigned_receipts(100).await.map_err(unavailable)?;
            if batch.is_empty() {
                return Ok(signed);
            }
            for r in batch {
                let facts = match facts_of(&r) {
                    Ok(facts) => facts,
                    Err(e) => {
                        tracing::error!(folio = %r.folio, error = %e, "receipt cannot be signed");
                        return Ok(signed);
                    }
                };
                let (kid, token) = state.receipt_keys.sign(&facts);
                // Another process may sign it first: what is stored first wins.
                state.store.set_receipt_signature(r.id, &kid, &token).await.map_err(unavailable)?;
                signed += 1;
            }
        }
    }

    /// The receipt of an order.
    pub async fn receipt_of_order(state: &AppState, order_id: i64) -> Result<Option<Receipt>, ReceiptError> {
        state.store.receipt_of_order(order_id).await.map_err(unavailable)
    }

    /// The receipt with this folio.
    pub async fn receipt_by_folio(state: &AppState, folio: &Folio) -> Result<Option<Receipt>, ReceiptError> {
        state.store.receipt_by_folio(folio).await.map_err(unavailable)
    }

    /// `<public URL>/v/<folio>?s=<signature>`: what the QR code holds.
    pub fn verify_url(state: &AppState, r: &Receipt) -> Option<String> {
        let token = r.signature.as_deref()?;
        Some(format!("{}/v/{}?s={token}", state.public_url.trim_end_matches('/'), r.folio))
    }

    /// The path part of [`verify_url`] (links inside the portal).
    pub fn verify_path(r: &Receipt) -> Option<String> {
        r.signature.as_deref().map(|s| format!("/v/{}?s={s}", r.folio))
    }

    /// Whether `s` is this receipt's own signature (the capability that
    /// opens its full view and its PDF).
    pub fn opens(r: &Receipt, s: &str) -> bool {
        r.signature.as_deref().is_some_and(|mine| {
            mine.len() == s.len() && mine.bytes().zip(s.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
        })
    }

    /// What `/v/<folio>?s=…` answers.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct Verification {
        pub kind: VerdictKind,
        /// The detailed outcome of the signature check, when one was made.
        pub verdict: Option<Verdict>,
        /// Shown for an authentic or cancelled receipt only.
        pub receipt: Option<PublicReceipt>,
        pub cancel_reason: Option<String>,
    }

    /// Checks folio + signature against the stored receipt and the keyring.
    /// Details are disclosed only when the signature is the receipt's own
    /// (folios are sequential: a guess must reveal nothing).
    #[tracing::instrument(name = "receipts.check", skip_all)]
    pub async fn check(state: &AppState, folio: &str, s: &str) -> Result<Verification, ReceiptError> {
        let unknown = Verification { kind: VerdictKind::Unknown, verdict: None, receipt: None, cancel_reason: None };
        let Ok(folio) = Folio::parse(folio) else { return Ok(unknown) };
        let Some(r) = receipt_by_folio(state, &folio).await? else { return Ok(unknown) };
        let facts = facts_of(&r).map_err(ReceiptError::Facts)?;
        let verdict = verify(&facts, s.trim(), state.receipt_keys.current().keyring());
        if !verdict.is_authentic() {
            return Ok(Verification {
                kind: VerdictKind::Forged,
                verdict: Some(verdict),
                receipt: None,
                cancel_reason: None,
            });
        }
        let public = public_receipt(state, &r).await?;
        Ok(match &r.status {
            // A demo receipt is worthless whatever else is true of it.
            _ if r.is_demo() => Verification {
                kind: VerdictKind::Demo,
                verdict: Some(verdict),
                receipt: Some(public),
                cancel_reason: None,
            },
            ReceiptStatus::Valid => Verification {
                kind: VerdictKind::Authentic,
                verdict: Some(verdict),
                receipt: Some(public),
                cancel_reason: None,
            },
            ReceiptStatus::Cancelled { reason, .. } => Verification {
                kind: VerdictKind::Cancelled,
                verdict: Some(verdict),
                receipt: Some(public),
                cancel_reason: Some(reason.clone()),
            },
        })
    }

    /// What the cashier's desk shows for a scanned QR code: the verdict,
    /// and whether (and when, where, by whom) the receipt was redeemed.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct DeskCheck {
        pub folio: String,
        pub signature: String,
        pub verification: Verification,
        pub redemption: Option<crate::store::Redemption>,
    }

    /// The desk's check of what a scanner typed (the QR's URL).
    pub async fn desk_check(state: &AppState, scanned: &str) -> Result<Result<DeskCheck, String>, ReceiptError> {
        let (folio, signature) = match crate::domain::receipt_sig::parse_verify_url(scanned.trim()) {
            Ok(parsed) => parsed,
            Err(e) => return Ok(Err(e.message_es().to_string())),
        };
        let verification = check(state, &folio.to_string(), &signature).await?;
        let redemption = match verification.kind {
            VerdictKind::Authentic | VerdictKind::Cancelled => {
                state.store.redemption_of(&folio).await.map_err(unavailable)?
            }
            _ => None,
        };
        Ok(Ok(DeskCheck { folio: folio.to_string(), signature, verification, redemption }))
    }

    /// "Entregar / canjear": a receipt whose code is its own and which is
    /// authentic (valid, not the demonstration's) is marked redeemed by
    /// `by` at `place`, once.
    pub async fn redeem(
        state: &AppState,
        folio: &str,
        signature: &str,
        actor: &str,
        by: &str,
        place: &str,
    ) -> Result<crate::store::RedeemOutcome, ReceiptError> {
        let verification = check(state, folio, signature).await?;
        if verification.kind != VerdictKind::Authentic {
            return Ok(crate::store::RedeemOutcome::NotRedeemable);
        }
        let Ok(folio) = Folio::parse(folio) else { return Ok(crate::store::RedeemOutcome::NotRedeemable) };
        state.store.redeem_receipt(&folio, actor, by, place, state.clock.real_now()).await.map_err(unavailable)
    }

    /// The facts shown to anyone holding the QR: amounts, dates, account,
    /// the payer's name masked.
    pub async fn public_receipt(state: &AppState, r: &Receipt) -> Result<PublicReceipt, ReceiptError> {
        let order = state.store.get_order(r.order_id).await.map_err(unavailable)?;
        let items = order
            .map(|o| {
                o.items
                    .into_iter()
                    .map(|i| PublicItem {
                        concept: state.municipality.concept(&i.concept).map(|c| c.name_es.clone()).unwrap_or(i.concept),
                        period: i.period,
                        total: i.total,
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(PublicReceipt {
            folio: r.folio.to_string(),
            issued_on: r.issued_on,
            issued_at: r.issued_at,
            account: r.account.clone(),
            payer: mask_name(&r.payer_name),
            total: r.total,
            method: r.method,
            items,
        })
    }
}
