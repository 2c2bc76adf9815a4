//! The receipts' signing key and the published keyring (every key ever
//! used, retired ones with `valid_until`), kept in ONE JSON file whose place
//! is configured (`RECAUDA_RECEIPT_KEYS`): several `recauda serve` processes
//! share it. Created with a fresh key on first start, readable by its owner
//! only; `recauda llaves rotar` retires the current key and starts a new
//! one. The store signs each receipt with it when it issues the receipt.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::receipt_sig::{sign, PublicKeyEntry, ReceiptFacts, SigningKeyPair};

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
    crate::tokens::random_bytes()
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
        let signing =
            SigningKeyPair::from_seed_b64url(&file.signing_seed_b64url).map_err(|e| invalid(e.message_es().into()))?;
        if !file.keys.iter().any(|k| k.kid() == signing.kid() && k.public_key() == signing.public_key()) {
            return Err(invalid(format!("la llave de firma {} no está en la lista de llaves públicas", signing.kid())));
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
