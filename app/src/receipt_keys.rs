//! The receipts' signing keys and the published keyring (every key ever
//! used, retired ones with `valid_until`), kept in ONE JSON file whose place
//! is configured (`RECAUDA_RECEIPT_KEYS`). Every `recauda serve` process of
//! a municipality uses the same file (a shared volume, or the same copy
//! deployed to each machine): a receipt signed by one is verified by all.
//!
//! * **Created** with a fresh key when the portal first starts on an empty
//!   database. A missing file when signed receipts exist is refused at
//!   start-up ([`KeyFileError::Missing`]): a new key would make every older
//!   receipt look unknown.
//! * **Rotated** by `recauda llaves rotar`: the current key is retired
//!   (valid until today), its seed kept in the file, and a new one signs
//!   from today. Running servers notice the file changed
//!   ([`ReceiptKeys::reload_if_changed`], a job every few seconds): no restart.
//! * **Signing** picks the key valid on the receipt's issue date
//!   ([`ReceiptKeys::sign`]): a receipt issued before a rotation but signed
//!   after it (left unsigned by an older version) is signed with the key of
//!   its day, so it verifies.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::receipt_sig::{sign, sign_message, PublicKeyEntry, ReceiptFacts, SigningKeyPair};

/// One version of the key file, as read.
pub struct KeySet {
    /// The key new receipts are signed with.
    signing: SigningKeyPair,
    /// Retired keys whose seeds were kept (to sign a receipt of their days).
    retired: Vec<SigningKeyPair>,
    /// Every public key, current and retired.
    keyring: Vec<PublicKeyEntry>,
}

impl KeySet {
    pub fn kid(&self) -> &str {
        self.signing.kid()
    }

    /// Every public key ever used (published at `/api/v1/receipts/keys`).
    pub fn keyring(&self) -> &[PublicKeyEntry] {
        &self.keyring
    }

    /// The key valid on `date`: the current one when it is (or when no key
    /// with a kept seed is), else the retired one whose period covers it.
    fn key_for(&self, date: NaiveDate) -> &SigningKeyPair {
        let valid = |k: &SigningKeyPair| {
            self.keyring.iter().any(|e| e.kid() == k.kid() && e.public_key() == k.public_key() && e.is_valid_on(date))
        };
        if valid(&self.signing) {
            return &self.signing;
        }
        self.retired.iter().find(|k| valid(k)).unwrap_or(&self.signing)
    }
}

/// The keys of the configured file (or of a seed, in tests), reloaded when
/// the file changes.
pub struct ReceiptKeys {
    path: Option<PathBuf>,
    current: RwLock<Arc<KeySet>>,
    /// The file's modification time and length when it was last read.
    stamp: Mutex<Option<(SystemTime, u64)>>,
}

impl std::fmt::Debug for ReceiptKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = self.current();
        f.debug_struct("ReceiptKeys")
            .field("signing", &set.signing)
            .field("retired", &set.retired.len())
            .field("keys", &set.keyring.len())
            .finish()
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    /// The current key's 32-byte seed, base64url. Secret.
    signing_seed_b64url: String,
    /// Seeds of retired keys (base64url), kept to sign receipts of their
    /// days. Secret.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    retired_seeds_b64url: Vec<String>,
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
    #[error(
        "falta el archivo de llaves de recibos {path}, pero la base de datos ya tiene {signed} recibos firmados: \
         con una llave nueva todos parecerían desconocidos. Restaure el archivo (el mismo que usan los demás \
         servidores, o su respaldo) o corrija RECAUDA_RECEIPT_KEYS; el portal no arranca sin él"
    )]
    Missing { path: PathBuf, signed: u64 },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyFileError + '_ {
    move |source| KeyFileError::Io { path: path.to_path_buf(), source }
}

fn random_seed() -> [u8; 32] {
    crate::tokens::random_bytes()
}

fn stamp_of(path: &Path) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

impl ReceiptKeys {
    fn new(path: Option<PathBuf>, set: KeySet) -> ReceiptKeys {
        let stamp = path.as_deref().and_then(stamp_of);
        ReceiptKeys { path, current: RwLock::new(Arc::new(set)), stamp: Mutex::new(stamp) }
    }

    /// Keys from a seed (tests, benchmarks): the keyring is its public key.
    pub fn from_seed(seed: [u8; 32]) -> ReceiptKeys {
        let signing = SigningKeyPair::from_seed(seed);
        let keyring = vec![signing.public_key_entry()];
        ReceiptKeys::new(None, KeySet { signing, retired: Vec::new(), keyring })
    }

    /// Reads the key file; when it does not exist, creates it with a new
    /// key valid from `today` — only if no receipt was signed yet
    /// (`signed_receipts`), otherwise [`KeyFileError::Missing`].
    pub fn load_or_create(path: &Path, today: NaiveDate, signed_receipts: u64) -> Result<ReceiptKeys, KeyFileError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(ReceiptKeys::new(Some(path.to_path_buf()), Self::parse(path, &text)?)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if signed_receipts > 0 {
                    return Err(KeyFileError::Missing { path: path.to_path_buf(), signed: signed_receipts });
                }
                let signing = SigningKeyPair::from_seed(random_seed());
                let entry = signing
                    .public_key_entry()
                    .with_validity(Some(today), None)
                    .map_err(|e| KeyFileError::Invalid { path: path.into(), reason: e.message_es().into() })?;
                let set = KeySet { signing, retired: Vec::new(), keyring: vec![entry] };
                save(path, &set)?;
                tracing::info!(path = %path.display(), kid = set.kid(), "receipt signing key created");
                Ok(ReceiptKeys::new(Some(path.to_path_buf()), set))
            }
            Err(e) => Err(io(path)(e)),
        }
    }

    fn parse(path: &Path, text: &str) -> Result<KeySet, KeyFileError> {
        let invalid = |reason: String| KeyFileError::Invalid { path: path.into(), reason };
        let file: KeyFile = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let published = |k: &SigningKeyPair| {
            if file.keys.iter().any(|e| e.kid() == k.kid() && e.public_key() == k.public_key()) {
                Ok(())
            } else {
                Err(invalid(format!("la llave de firma {} no está en la lista de llaves públicas", k.kid())))
            }
        };
        let signing =
            SigningKeyPair::from_seed_b64url(&file.signing_seed_b64url).map_err(|e| invalid(e.message_es().into()))?;
        published(&signing)?;
        let mut retired = Vec::new();
        for seed in &file.retired_seeds_b64url {
            let k = SigningKeyPair::from_seed_b64url(seed).map_err(|e| invalid(e.message_es().into()))?;
            published(&k)?;
            retired.push(k);
        }
        Ok(KeySet { signing, retired, keyring: file.keys })
    }

    /// Retires the current key (valid until `today`, its seed kept) and
    /// signs from now on with a new one (valid from `today`); both stay
    /// published, so old receipts keep verifying. Running servers pick the
    /// new key up by themselves. Returns (old kid, new kid).
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
        let mut retired = old.retired;
        retired.push(old.signing);
        let new = KeySet { signing, retired, keyring };
        save(path, &new)?;
        Ok((old_kid, new.kid().to_string()))
    }

    /// Re-reads the file when its modification time or length changed
    /// since the last read (a rotation by `recauda llaves rotar`, on this
    /// machine or another sharing the file). A file that became unreadable
    /// or invalid keeps the keys in use (and is reported). Returns whether
    /// new keys were taken.
    pub fn reload_if_changed(&self) -> Result<bool, KeyFileError> {
        let Some(path) = self.path.as_deref() else { return Ok(false) };
        let now = stamp_of(path);
        {
            let seen = self.stamp.lock().expect("key stamp lock");
            if now.is_none() || *seen == now {
                return Ok(false);
            }
        }
        let text = std::fs::read_to_string(path).map_err(io(path))?;
        let set = Self::parse(path, &text)?;
        let changed = {
            let current = self.current();
            current.kid() != set.kid() || current.keyring.len() != set.keyring.len()
        };
        *self.current.write().expect("key lock") = Arc::new(set);
        *self.stamp.lock().expect("key stamp lock") = now;
        if changed {
            tracing::info!(path = %path.display(), kid = self.kid(), "receipt signing keys reloaded");
        }
        Ok(changed)
    }

    /// The keys in use now.
    pub fn current(&self) -> Arc<KeySet> {
        self.current.read().expect("key lock").clone()
    }

    /// The kid of the key new receipts are signed with.
    pub fn kid(&self) -> String {
        self.current().kid().to_string()
    }

    /// Every public key ever used.
    pub fn keyring(&self) -> Vec<PublicKeyEntry> {
        self.current().keyring.clone()
    }

    /// Signs a receipt's facts with the key valid on its issue date:
    /// (that key's kid, the token).
    pub fn sign(&self, facts: &ReceiptFacts) -> (String, String) {
        let set = self.current();
        let key = set.key_for(facts.issue_date());
        (key.kid().to_string(), sign(key, facts).into_string())
    }

    /// Signs a document's exact text (a permit's) issued on `issue_date`,
    /// with the key valid that day: (kid, token).
    pub fn sign_text(&self, issue_date: NaiveDate, text: &str) -> (String, String) {
        let set = self.current();
        let key = set.key_for(issue_date);
        (key.kid().to_string(), sign_message(key, text.as_bytes()).into_string())
    }
}

/// Writes the file atomically (a temporary file renamed over it), readable
/// and writable by its owner only.
fn save(path: &Path, set: &KeySet) -> Result<(), KeyFileError> {
    use std::io::Write;
    let file = KeyFile {
        signing_seed_b64url: set.signing.seed_b64url(),
        retired_seeds_b64url: set.retired.iter().map(SigningKeyPair::seed_b64url).collect(),
        keys: set.keyring.clone(),
    };
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::folio::Folio;
    use crate::domain::money::Centavos;
    use crate::domain::receipt_sig::{verify, Verdict};

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn facts(on: NaiveDate) -> ReceiptFacts {
        ReceiptFacts::new(Folio::parse("A-2026-000001").unwrap(), Centavos(64_010), on, "P-000002").unwrap()
    }

    #[test]
    fn a_missing_file_is_created_only_while_nothing_was_signed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.json");
        let err = ReceiptKeys::load_or_create(&path, date(2026, 11, 21), 3).unwrap_err();
        assert!(matches!(err, KeyFileError::Missing { signed: 3, .. }), "{err:?}");
        assert!(err.to_string().contains("3 recibos firmados"), "{err}");
        assert!(!path.exists(), "no new key was made");
        let keys = ReceiptKeys::load_or_create(&path, date(2026, 11, 21), 0).unwrap();
        assert!(path.exists());
        // Once it exists it is read, signed receipts or not.
        let again = ReceiptKeys::load_or_create(&path, date(2026, 11, 22), 3).unwrap();
        assert_eq!(again.kid(), keys.kid());
    }

    #[test]
    fn rotation_is_picked_up_without_a_restart_and_each_day_keeps_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.json");
        let keys = ReceiptKeys::load_or_create(&path, date(2026, 1, 1), 0).unwrap();
        let before = facts(date(2026, 11, 20));
        let (old_kid, old_token) = keys.sign(&before);
        assert!(!keys.reload_if_changed().unwrap(), "nothing changed");

        let (retired, new) = ReceiptKeys::rotate(&path, date(2026, 11, 21)).unwrap();
        assert_eq!(retired, old_kid);
        // The running process sees the new file (another mtime or length).
        assert!(keys.reload_if_changed().unwrap());
        assert_eq!(keys.kid(), new);
        assert_eq!(keys.keyring().len(), 2);
        // A receipt of the rotation day or later: the new key.
        let (kid, token) = keys.sign(&facts(date(2026, 11, 22)));
        assert_eq!(kid, new);
        assert_eq!(
            verify(&facts(date(2026, 11, 22)), &token, &keys.keyring()),
            Verdict::Authentic { kid: new.clone() }
        );
        // A receipt issued before the rotation, signed now: the old key of
        // its day (the same signature as before), and it verifies.
        let (kid, token) = keys.sign(&before);
        assert_eq!((kid.as_str(), token.as_str()), (old_kid.as_str(), old_token.as_str()));
        assert_eq!(verify(&before, &token, &keys.keyring()), Verdict::Authentic { kid: old_kid.clone() });

        // A second rotation keeps every retired seed.
        ReceiptKeys::rotate(&path, date(2026, 12, 1)).unwrap();
        assert!(keys.reload_if_changed().unwrap());
        assert_eq!(keys.sign(&before).0, old_kid);
        assert_eq!(keys.keyring().len(), 3);
        let text = std::fs::read_to_string(&path).unwrap();
        let file: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(file["retired_seeds_b64url"].as_array().unwrap().len(), 2);

        // A broken file keeps the keys in use.
        std::fs::write(&path, "{").unwrap();
        assert!(keys.reload_if_changed().is_err());
        assert_eq!(keys.keyring().len(), 3);
    }

    #[test]
    fn an_older_file_without_retired_seeds_still_reads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.json");
        let keys = ReceiptKeys::load_or_create(&path, date(2026, 1, 1), 0).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("retired_seeds_b64url"), "{text}");
        let again = ReceiptKeys::load_or_create(&path, date(2026, 1, 2), 1).unwrap();
        assert_eq!(again.kid(), keys.kid());
    }
}
