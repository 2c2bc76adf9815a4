//! Official receipts (recibos oficiales): the signing keys, signing a
//! receipt right after the transaction that issued it, its verification URL
//! (the QR code), and the verdict anyone gets at `/v/<folio>?s=…`.
//!
//! The receipt itself is issued by the store in the transaction that marks
//! the payment succeeded ([`crate::store::Store::apply_provider_event`]);
//! its signature is an Ed25519 signature over its stored facts
//! ([`crate::domain::receipt_sig`]), so it is the same whoever computes it
//! and whenever: [`sign_receipt`] runs right after the commit and again,
//! as a no-op or to finish the job after a crash, whenever a receipt is read.

use serde::Serialize;

use crate::domain::money::Centavos;

/// What the verification of a receipt concluded, in words for people.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictKind {
    /// Green: issued by this treasury with these amounts.
    Authentic,
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
            VerdictKind::Forged => "forged",
            VerdictKind::Cancelled => "cancelled",
            VerdictKind::Unknown => "unknown",
        }
    }
}

/// The public facts shown with an authentic (or cancelled) receipt, to
/// compare with the paper. The payer's name is masked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PublicReceipt {
    pub folio: String,
    pub issued_on: chrono::NaiveDate,
    pub issued_at: chrono::DateTime<chrono::Utc>,
    pub account: String,
    pub payer: String,
    pub total: Centavos,
    pub method: Option<String>,
    pub items: Vec<PublicItem>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PublicItem {
    pub concept: String,
    pub period: String,
    pub total: Centavos,
}

/// How a payment method is written on a receipt.
pub fn method_label(method: Option<&str>, lang: crate::i18n::Lang) -> &'static str {
    match method {
        Some("card") => lang.pick("Tarjeta", "Card"),
        Some("oxxo") => lang.pick("Efectivo en OXXO", "Cash at OXXO"),
        Some("spei") => lang.pick("Transferencia SPEI", "SPEI transfer"),
        _ => lang.pick("Pago en línea", "Online payment"),
    }
}

#[cfg(feature = "ssr")]
pub use service::*;

#[cfg(feature = "ssr")]
mod service {
    use std::path::{Path, PathBuf};

    use chrono::NaiveDate;
    use serde::{Deserialize, Serialize};

    use super::{PublicItem, PublicReceipt, VerdictKind};
    use crate::domain::folio::Folio;
    use crate::domain::receipt_sig::{sign, verify, FactsError, PublicKeyEntry, ReceiptFacts, SigningKeyPair, Verdict};
    use crate::privacy::mask_name;
    use crate::state::AppState;
    use crate::store::{Receipt, ReceiptStatus, StoreError};

    /// The signing key and the published keyring (every key ever used,
    /// retired ones with `valid_until`), kept in one JSON file whose place is
    /// configured (`RECAUDA_RECEIPT_KEYS`). Created with a fresh key on first
    /// start, readable by its owner only.
    pub struct ReceiptKeys {
        signing: SigningKeyPair,
        keyring: Vec<PublicKeyEntry>,
    }

    impl std::fmt::Debug for ReceiptKeys {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("ReceiptKeys").field("signing", &self.signing).field("keys", &self.keyring.len()).finish()
        }
    }

    #[derive(Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct KeyFile {
        /// The current key's 32-byte seed, base64url. Secret.
        signing_seed_b64url: String,
        /// The public keys: the current one and every retired one.
        keys: Vec<PublicKeyEntry>,
    }

    /// Why the key file could not be used.
    #[derive(Debug, thiserror::Error)]
    pub enum KeyFileError {
        #[error("no se pudo leer o escribir el archivo de llaves de recibos {path}")]
        Io {
            path: PathBuf,
            #[source]
            source: std::io::Error,
        },
        #[error("el archivo de llaves de recibos {path} no es válido: {reason}")]
        Invalid { path: PathBuf, reason: String },
    }

    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyFileError + '_ {
        move |source| KeyFileError::Io { path: path.to_path_buf(), source }
    }

    fn random_seed() -> [u8; 32] {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).expect("the operating system's random source");
        seed
    }

    impl ReceiptKeys {
        /// Keys from a seed (tests, benchmarks): the keyring is its public key.
        pub fn from_seed(seed: [u8; 32]) -> ReceiptKeys {
            let signing = SigningKeyPair::from_seed(seed);
            let keyring = vec![signing.public_key_entry()];
            ReceiptKeys { signing, keyring }
        }

        /// Reads the key file, or creates it with a new key valid from
        /// `today` when it does not exist.
        pub fn load_or_create(path: &Path, today: NaiveDate) -> Result<ReceiptKeys, KeyFileError> {
            match std::fs::read_to_string(path) {
                Ok(text) => Self::parse(path, &text),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    let signing = SigningKeyPair::from_seed(random_seed());
                    let entry = signing
                        .public_key_entry()
                        .with_validity(Some(today), None)
                        .map_err(|e| KeyFileError::Invalid { path: path.into(), reason: e.message_es().into() })?;
                    let keys = ReceiptKeys { signing, keyring: vec![entry] };
                    keys.save(path)?;
                    tracing::info!(path = %path.display(), kid = keys.kid(), "receipt signing key created");
                    Ok(keys)
                }
                Err(e) => Err(io(path)(e)),
            }
        }

        fn parse(path: &Path, text: &str) -> Result<ReceiptKeys, KeyFileError> {
            let invalid = |reason: String| KeyFileError::Invalid { path: path.into(), reason };
            let file: KeyFile = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
            let signing = SigningKeyPair::from_seed_b64url(&file.signing_seed_b64url)
                .map_err(|e| invalid(e.message_es().into()))?;
            if !file.keys.iter().any(|k| k.kid() == signing.kid() && k.public_key() == signing.public_key()) {
                return Err(invalid(format!(
                    "la llave de firma {} no está en la lista de llaves públicas",
                    signing.kid()
                )));
            }
            Ok(ReceiptKeys { signing, keyring: file.keys })
        }

        /// Writes the file atomically (a temporary file renamed over it),
        /// readable and writable by its owner only.
        fn save(&self, path: &Path) -> Result<(), KeyFileError> {
            use std::io::Write;
            let file = KeyFile { signing_seed_b64url: self.signing.seed_b64url(), keys: self.keyring.clone() };
            let text = serde_json::to_string_pretty(&file).expect("the key file serialises");
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(io(dir))?;
            }
            let tmp = path.with_extension("tmp");
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut out = options.open(&tmp).map_err(io(&tmp))?;
            out.write_all(text.as_bytes()).and_then(|()| out.sync_all()).map_err(io(&tmp))?;
            std::fs::rename(&tmp, path).map_err(io(path))
        }

        /// Retires the current key (valid until `today`) and signs from now
        /// on with a new one (valid from `today`); both stay published, so
        /// old receipts keep verifying. Returns (old kid, new kid).
        pub fn rotate(path: &Path, today: NaiveDate) -> Result<(String, String), KeyFileError> {
            let text = std::fs::read_to_string(path).map_err(io(path))?;
            let old = Self::parse(path, &text)?;
            let old_kid = old.kid().to_string();
            let invalid = |e: crate::domain::receipt_sig::KeyError| KeyFileError::Invalid {
                path: path.into(),
                reason: e.message_es().into(),
            };
            let mut keyring = Vec::new();
            for k in old.keyring {
                keyring.push(if k.kid() == old_kid {
                    k.clone().with_validity(k.valid_from(), Some(today)).map_err(invalid)?
                } else {
                    k
                });
            }
            let signing = SigningKeyPair::from_seed(random_seed());
            keyring.push(signing.public_key_entry().with_validity(Some(today), None).map_err(invalid)?);
            let new = ReceiptKeys { signing, keyring };
            new.save(path)?;
            Ok((old_kid, new.kid().to_string()))
        }

        pub fn kid(&self) -> &str {
            self.signing.kid()
        }

        /// Every public key ever used (published at `/api/v1/receipts/keys`).
        pub fn keyring(&self) -> &[PublicKeyEntry] {
            &self.keyring
        }

        pub fn sign(&self, facts: &ReceiptFacts) -> String {
            sign(&self.signing, facts).into_string()
        }
    }

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

    /// Signs a receipt that has no signature yet and records it; returns the
    /// receipt with its signature. A signed receipt comes back as it is.
    pub async fn sign_receipt(state: &AppState, mut r: Receipt) -> Result<Receipt, ReceiptError> {
        if r.signature.is_some() {
            return Ok(r);
        }
        let facts = facts_of(&r).map_err(ReceiptError::Facts)?;
        let token = state.receipt_keys.sign(&facts);
        state.store.set_receipt_signature(r.id, state.receipt_keys.kid(), &token).await.map_err(unavailable)?;
        // Another process may have signed it first (same facts, maybe
        // another key after a rotation): what is stored wins.
        r = state.store.receipt_by_folio(&r.folio.to_string()).await.map_err(unavailable)?.unwrap_or(r);
        Ok(r)
    }

    /// Signs every receipt still unsigned (after a crash between the
    /// payment's commit and its signature). Returns how many.
    pub async fn sign_unsigned(state: &AppState) -> Result<usize, ReceiptError> {
        let mut signed = 0;
        loop {
            let batch = state.store.unsigned_receipts(100).await.map_err(unavailable)?;
            if batch.is_empty() {
                return Ok(signed);
            }
            for r in batch {
                let folio = r.folio.clone();
                match sign_receipt(state, r).await {
                    Ok(_) => signed += 1,
                    Err(ReceiptError::Facts(e)) => {
                        tracing::error!(%folio, error = %e, "receipt cannot be signed");
                        return Ok(signed);
                    }
                    Err(e) => return Err(e),
                }
            }
        }
    }

    /// The receipt of an order, signed.
    pub async fn receipt_of_order(state: &AppState, order_id: i64) -> Result<Option<Receipt>, ReceiptError> {
        match state.store.receipt_of_order(order_id).await.map_err(unavailable)? {
            Some(r) => sign_receipt(state, r).await.map(Some),
            None => Ok(None),
        }
    }

    /// The receipt with this folio, signed.
    pub async fn receipt_by_folio(state: &AppState, folio: &Folio) -> Result<Option<Receipt>, ReceiptError> {
        match state.store.receipt_by_folio(&folio.to_string()).await.map_err(unavailable)? {
            Some(r) => sign_receipt(state, r).await.map(Some),
            None => Ok(None),
        }
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
    pub async fn check(state: &AppState, folio: &str, s: &str) -> Result<Verification, ReceiptError> {
        let unknown = Verification { kind: VerdictKind::Unknown, verdict: None, receipt: None, cancel_reason: None };
        let Ok(folio) = Folio::parse(folio) else { return Ok(unknown) };
        let Some(r) = receipt_by_folio(state, &folio).await? else { return Ok(unknown) };
        let facts = facts_of(&r).map_err(ReceiptError::Facts)?;
        let verdict = verify(&facts, s.trim(), state.receipt_keys.keyring());
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
            method: r.method.clone(),
            items,
        })
    }
}
