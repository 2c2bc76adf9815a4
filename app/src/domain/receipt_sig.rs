//! Receipt signature: the `s` parameter of the verification URL printed as
//! a QR code on every recibo,
//!
//! ```text
//! <base>/v/<folio>?s=<token>
//! https://pagos.ejemplo.gob.mx/v/A-2026-000123?s=1f3a9c0e.<86 base64url chars>
//! ```
//!
//! # What is signed (format version 1)
//!
//! The UTF-8 bytes of the canonical string, five fields joined by `|`, with
//! no trailing newline:
//!
//! ```text
//! recauda-recibo-v1|A-2026-000123|1234.50|2026-11-22|P-000123
//! ^ version tag     ^ folio       ^ total ^ date     ^ account
//! ```
//!
//! * version tag: the literal `recauda-recibo-v1` (domain separation: no
//!   other message signed with the key can be mistaken for a receipt; a
//!   future format gets `-v2` and a new verifier branch);
//! * folio: the canonical form of [`Folio`] (`[A-Z0-9]+-YYYY-NNNNNN`);
//! * total: [`Centavos::to_api_string`], always two decimals, no thousands
//!   separator, never negative (`0.00`, `1234.50`);
//! * issue date: `YYYY-MM-DD`, the date in the municipality's time zone
//!   (the caller converts; this module has no clock and no time zone);
//!   years 1000–9999;
//! * account: the account the payment was for (e.g. cuenta predial
//!   `P-000123`), trimmed, 1–64 characters of printable ASCII (space to
//!   `~`) except `|`. Non-ASCII is refused rather than normalised, so the
//!   signer and the verifier can never disagree on Unicode normalisation.
//!
//! No field can contain `|`, so the string is unambiguous. [`ReceiptFacts`]
//! can only be built with valid fields, so signing cannot fail.
//!
//! # Token
//!
//! `<kid>.<signature>`: the key id (8 lowercase hex characters, see
//! [`key_id`]), a dot, and the 64-byte Ed25519 signature in base64url
//! without padding (86 characters): 95 URL-safe characters in all, no
//! percent-encoding needed.
//!
//! # Key id
//!
//! The key id is derived, not configured: the first 4 bytes of SHA-256 of
//! the 32-byte public key, in lowercase hex. An operator therefore cannot
//! reuse an id for a new key by mistake, and a published keyring entry
//! whose id does not match its key is refused when it is read. Old keys
//! stay in the keyring (with `valid_until` set) so that old receipts keep
//! verifying after a rotation.
//!
//! # Verification
//!
//! [`verify`] uses Ed25519 `verify_strict` (rejects non-canonical and
//! small-order keys and signatures). It needs the receipt facts from
//! somewhere else than the URL (the printed recibo, or the portal's own
//! record of the folio): the URL carries only the folio and the token. The
//! host of the URL is ignored by [`parse_verify_url`]; trust comes from
//! the keyring alone.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{Datelike, NaiveDate};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::folio::{Folio, FolioError};
use crate::domain::money::Centavos;

/// The version tag that starts the canonical string.
pub const CANONICAL_VERSION_TAG: &str = "recauda-recibo-v1";
/// Maximum length of the account field, in bytes (ASCII characters).
pub const MAX_ACCOUNT_LEN: usize = 64;
/// Length of a key id (lowercase hex characters).
pub const KID_LEN: usize = 8;
/// Length of the base64url signature part of a token.
const SIGNATURE_B64_LEN: usize = 86;

// ---------------------------------------------------------------------------
// Facts

/// The facts of a recibo that the signature covers. Fields are private: a
/// value can only exist with valid fields (see the module documentation).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ReceiptFactsJson", into = "ReceiptFactsJson")]
pub struct ReceiptFacts {
    folio: Folio,
    total: Centavos,
    issue_date: NaiveDate,
    account: String,
}

#[derive(Clone, Serialize, Deserialize)]
struct ReceiptFactsJson {
    folio: Folio,
    total: Centavos,
    issue_date: NaiveDate,
    account: String,
}

impl ReceiptFacts {
    /// Checks and builds the facts. `account` is trimmed.
    pub fn new(
        folio: Folio,
        total: Centavos,
        issue_date: NaiveDate,
        account: &str,
    ) -> Result<ReceiptFacts, FactsError> {
        if total.0 < 0 {
            return Err(FactsError::NegativeTotal);
        }
        if !(1000..=9999).contains(&issue_date.year()) {
            return Err(FactsError::Date);
        }
        let account = account.trim();
        if account.is_empty() {
            return Err(FactsError::AccountEmpty);
        }
        if account.len() > MAX_ACCOUNT_LEN {
            return Err(FactsError::AccountTooLong);
        }
        if !account.bytes().all(|b| (0x20..=0x7e).contains(&b) && b != b'|') {
            return Err(FactsError::AccountCharacters);
        }
        Ok(ReceiptFacts { folio, total, issue_date, account: account.to_string() })
    }

    pub fn folio(&self) -> &Folio {
        &self.folio
    }

    pub fn total(&self) -> Centavos {
        self.total
    }

    pub fn issue_date(&self) -> NaiveDate {
        self.issue_date
    }

    pub fn account(&self) -> &str {
        &self.account
    }

    /// The exact text that is signed (format version 1).
    pub fn canonical_string(&self) -> String {
        format!(
            "{CANONICAL_VERSION_TAG}|{}|{}|{}|{}",
            self.folio,
            self.total.to_api_string(),
            self.issue_date.format("%Y-%m-%d"),
            self.account
        )
    }
}

impl TryFrom<ReceiptFactsJson> for ReceiptFacts {
    type Error = &'static str;
    fn try_from(j: ReceiptFactsJson) -> Result<Self, Self::Error> {
        ReceiptFacts::new(j.folio, j.total, j.issue_date, &j.account).map_err(|e| e.message_en())
    }
}

impl From<ReceiptFacts> for ReceiptFactsJson {
    fn from(f: ReceiptFacts) -> Self {
        ReceiptFactsJson { folio: f.folio, total: f.total, issue_date: f.issue_date, account: f.account }
    }
}

/// Why receipt facts were refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone, Copy)]
pub enum FactsError {
    #[error("the receipt total must not be negative")]
    NegativeTotal,
    #[error("the issue date must have a 4-digit year")]
    Date,
    #[error("the account is empty")]
    AccountEmpty,
    #[error("the account is too long")]
    AccountTooLong,
    #[error("the account may only contain printable ASCII characters other than '|'")]
    AccountCharacters,
}

impl FactsError {
    pub fn message_es(&self) -> &'static str {
        match self {
            FactsError::NegativeTotal => "El total del recibo no puede ser negativo.",
            FactsError::Date => "La fecha de emisión debe tener un año de 4 dígitos.",
            FactsError::AccountEmpty => "Escriba la cuenta.",
            FactsError::AccountTooLong => "La cuenta es demasiado larga (máximo 64 caracteres).",
            FactsError::AccountCharacters => {
                "La cuenta solo puede contener letras sin acento, dígitos, espacios y signos ASCII (sin '|')."
            }
        }
    }

    pub fn message_en(&self) -> &'static str {
        match self {
            FactsError::NegativeTotal => "The receipt total must not be negative.",
            FactsError::Date => "The issue date must have a 4-digit year.",
            FactsError::AccountEmpty => "Enter the account.",
            FactsError::AccountTooLong => "The account is too long (at most 64 characters).",
            FactsError::AccountCharacters => {
                "The account may only contain unaccented letters, digits, spaces and ASCII symbols (no '|')."
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Keys

/// The key id of a public key: the first 4 bytes of its SHA-256, in
/// lowercase hex (8 characters).
pub fn key_id(public_key: &[u8; 32]) -> String {
    let digest = Sha256::digest(public_key);
    digest[..KID_LEN / 2].iter().map(|b| format!("{b:02x}")).collect()
}

/// The portal's signing key (server side only).
///
/// Built from a 32-byte seed that the server draws from the OS random
/// generator (e.g. `getrandom::fill`) once, when a key is created, and keeps
/// secret; this crate never touches randomness. The secret is wiped from
/// memory when the value is dropped. `Debug` shows the key id only.
pub struct SigningKeyPair {
    key: SigningKey,
    kid: String,
}

impl SigningKeyPair {
    /// The key pair for a 32-byte Ed25519 seed (the RFC 8032 secret key).
    pub fn from_seed(seed: [u8; 32]) -> SigningKeyPair {
        let key = SigningKey::from_bytes(&seed);
        let kid = key_id(key.verifying_key().as_bytes());
        SigningKeyPair { key, kid }
    }

    /// The same from the seed in base64url without padding (43 characters),
    /// the form in which a server would keep it in a secret store.
    pub fn from_seed_b64url(seed: &str) -> Result<SigningKeyPair, KeyError> {
        let bytes = decode_b64url_exact::<32>(seed.trim()).ok_or(KeyError::Seed)?;
        Ok(SigningKeyPair::from_seed(bytes))
    }

    /// The seed in base64url without padding: what [`Self::from_seed_b64url`]
    /// reads back. Secret: for the server's key file only.
    pub fn seed_b64url(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.key.to_bytes())
    }

    /// The key id published with the public key.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The 32-byte public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }

    /// The keyring entry to publish, with no validity bounds (add them
    /// with [`PublicKeyEntry::with_validity`]).
    pub fn public_key_entry(&self) -> PublicKeyEntry {
        PublicKeyEntry { kid: self.kid.clone(), key: self.key.verifying_key(), valid_from: None, valid_until: None }
    }
}

impl fmt::Debug for SigningKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKeyPair").field("kid", &self.kid).finish_non_exhaustive()
    }
}

/// A published verification key. In JSON:
///
/// ```json
/// {"kid":"1f3a9c0e","public_key_b64url":"<43 chars>","valid_from":"2026-01-01","valid_until":"2026-12-31"}
/// ```
///
/// `valid_from` / `valid_until` are optional and inclusive, compared with
/// the receipt's issue date. Reading refuses a `kid` that is not the
/// [`key_id`] of the key, an invalid key and `valid_from > valid_until`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "PublicKeyEntryJson", into = "PublicKeyEntryJson")]
pub struct PublicKeyEntry {
    kid: String,
    key: VerifyingKey,
    valid_from: Option<NaiveDate>,
    valid_until: Option<NaiveDate>,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PublicKeyEntryJson {
    kid: String,
    public_key_b64url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    valid_from: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    valid_until: Option<NaiveDate>,
}

impl PublicKeyEntry {
    /// An entry for a 32-byte public key, with no validity bounds.
    pub fn new(public_key: [u8; 32]) -> Result<PublicKeyEntry, KeyError> {
        let key = VerifyingKey::from_bytes(&public_key).map_err(|_| KeyError::PublicKey)?;
        if key.is_weak() {
            return Err(KeyError::PublicKey);
        }
        Ok(PublicKeyEntry { kid: key_id(&public_key), key, valid_from: None, valid_until: None })
    }

    /// Sets the (inclusive) validity bounds.
    pub fn with_validity(
        mut self,
        valid_from: Option<NaiveDate>,
        valid_until: Option<NaiveDate>,
    ) -> Result<PublicKeyEntry, KeyError> {
        if let (Some(from), Some(until)) = (valid_from, valid_until) {
            if from > until {
                return Err(KeyError::Validity);
            }
        }
        self.valid_from = valid_from;
        self.valid_until = valid_until;
        Ok(self)
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn public_key(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// The public key in base64url without padding, as in the JSON form.
    pub fn public_key_b64url(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.key.as_bytes())
    }

    pub fn valid_from(&self) -> Option<NaiveDate> {
        self.valid_from
    }

    pub fn valid_until(&self) -> Option<NaiveDate> {
        self.valid_until
    }

    /// Whether the key may have signed a receipt issued on `date`.
    pub fn is_valid_on(&self, date: NaiveDate) -> bool {
        self.valid_from.is_none_or(|from| from <= date) && self.valid_until.is_none_or(|until| date <= until)
    }
}

impl TryFrom<PublicKeyEntryJson> for PublicKeyEntry {
    type Error = &'static str;
    fn try_from(j: PublicKeyEntryJson) -> Result<Self, Self::Error> {
        let bytes = decode_b64url_exact::<32>(&j.public_key_b64url).ok_or(KeyError::PublicKey.message_en())?;
        let entry = PublicKeyEntry::new(bytes)
            .and_then(|e| e.with_validity(j.valid_from, j.valid_until))
            .map_err(|e| e.message_en())?;
        if j.kid != entry.kid {
            return Err(KeyError::KidMismatch.message_en());
        }
        Ok(entry)
    }
}

impl From<PublicKeyEntry> for PublicKeyEntryJson {
    fn from(e: PublicKeyEntry) -> Self {
        PublicKeyEntryJson {
            public_key_b64url: e.public_key_b64url(),
            kid: e.kid,
            valid_from: e.valid_from,
            valid_until: e.valid_until,
        }
    }
}

/// Why a key could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone, Copy)]
pub enum KeyError {
    #[error("the seed must be 32 bytes in base64url without padding")]
    Seed,
    #[error("the public key must be a valid 32-byte Ed25519 key in base64url without padding")]
    PublicKey,
    #[error("the key id does not match the public key")]
    KidMismatch,
    #[error("valid_from is after valid_until")]
    Validity,
}

impl KeyError {
    pub fn message_es(&self) -> &'static str {
        match self {
            KeyError::Seed => "La semilla debe ser de 32 bytes en base64url sin relleno.",
            KeyError::PublicKey => {
                "La llave pública debe ser una llave Ed25519 válida de 32 bytes en base64url sin relleno."
            }
            KeyError::KidMismatch => "El identificador no corresponde a la llave pública.",
            KeyError::Validity => "La fecha de inicio de vigencia es posterior a la de fin.",
        }
    }

    pub fn message_en(&self) -> &'static str {
        match self {
            KeyError::Seed => "The seed must be 32 bytes in base64url without padding.",
            KeyError::PublicKey => "The public key must be a valid 32-byte Ed25519 key in base64url without padding.",
            KeyError::KidMismatch => "The key id does not match the public key.",
            KeyError::Validity => "valid_from is after valid_until.",
        }
    }
}

/// Decodes canonical base64url without padding into exactly `N` bytes.
fn decode_b64url_exact<const N: usize>(s: &str) -> Option<[u8; N]> {
    // Check the length first: bounds the work on hostile input.
    if s.len() != (N * 4).div_ceil(3) {
        return None;
    }
    URL_SAFE_NO_PAD.decode(s).ok()?.try_into().ok()
}

// ---------------------------------------------------------------------------
// Sign and verify

/// A token `<kid>.<signature>` for the `s` parameter of the URL.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SignatureToken(String);

impl SignatureToken {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for SignatureToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Signs the canonical string of `facts`. Deterministic (Ed25519): the same
/// key and facts always give the same token.
pub fn sign(keypair: &SigningKeyPair, facts: &ReceiptFacts) -> SignatureToken {
    sign_message(keypair, facts.canonical_string().as_bytes())
}

/// Signs any document's exact bytes (a permit's signed text, which starts
/// with its own version tag, so it can never be taken for a receipt's).
pub fn sign_message(keypair: &SigningKeyPair, message: &[u8]) -> SignatureToken {
    let signature = keypair.key.sign(message);
    SignatureToken(format!("{}.{}", keypair.kid, URL_SAFE_NO_PAD.encode(signature.to_bytes())))
}

/// The outcome of [`verify`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The facts were signed by the keyring key `kid`, within its validity.
    Authentic { kid: String },
    /// The token is well formed and names a known key, but the signature
    /// does not match these facts (changed amount, folio, date or account,
    /// or signed by another key).
    Forged,
    /// The token names a key that is not in the keyring.
    UnknownKey { kid: String },
    /// The signature is good, but the key was not valid on the receipt's
    /// issue date (signed before `valid_from` or after `valid_until`, e.g.
    /// with a retired or compromised key).
    KeyNotValidOnDate { kid: String },
    /// The token is not `<8 lowercase hex>.<86 base64url characters>`.
    Malformed,
}

impl Verdict {
    pub fn is_authentic(&self) -> bool {
        matches!(self, Verdict::Authentic { .. })
    }

    /// A short sentence for the cashier or the citizen.
    pub fn message_es(&self) -> &'static str {
        match self {
            Verdict::Authentic { .. } => "Recibo auténtico.",
            Verdict::Forged => "La firma no corresponde a los datos del recibo: el recibo no es válido.",
            Verdict::UnknownKey { .. } => "El recibo está firmado con una llave desconocida.",
            Verdict::KeyNotValidOnDate { .. } => {
                "El recibo está firmado con una llave que no estaba vigente en su fecha de emisión."
            }
            Verdict::Malformed => "El código de verificación está dañado o incompleto.",
        }
    }

    pub fn message_en(&self) -> &'static str {
        match self {
            Verdict::Authentic { .. } => "Authentic receipt.",
            Verdict::Forged => "The signature does not match the receipt's details: the receipt is not valid.",
            Verdict::UnknownKey { .. } => "The receipt is signed with an unknown key.",
            Verdict::KeyNotValidOnDate { .. } => {
                "The receipt is signed with a key that was not in force on its issue date."
            }
            Verdict::Malformed => "The verification code is damaged or incomplete.",
        }
    }
}

/// What a check made without the portal can say (the cashier desk's
/// offline check, `recauda verify` with the printed facts): whether the
/// signature is good, never more. Whether the treasury has cancelled the
/// receipt since is known to the portal only, so a good signature reads
/// "firma válida; cancelación no verificada"; and a demonstration
/// receipt's good signature is still worthless.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OfflineVerdict {
    SignatureValid,
    Demo,
    Invalid(Verdict),
}

impl OfflineVerdict {
    pub fn of(facts: &ReceiptFacts, verdict: Verdict) -> OfflineVerdict {
        match verdict {
            Verdict::Authentic { .. } if facts.folio().is_demo() => OfflineVerdict::Demo,
            Verdict::Authentic { .. } => OfflineVerdict::SignatureValid,
            other => OfflineVerdict::Invalid(other),
        }
    }

    /// Only a good signature on a real receipt may be accepted (pending the
    /// cancellation check).
    pub fn accepted(&self) -> bool {
        *self == OfflineVerdict::SignatureValid
    }

    pub fn message_es(&self) -> &'static str {
        match self {
            OfflineVerdict::SignatureValid => {
                "Firma válida; cancelación no verificada (sin conexión no se sabe si la tesorería canceló el recibo)."
            }
            OfflineVerdict::Demo => "Recibo de demostración — sin validez: no se pagó dinero real.",
            OfflineVerdict::Invalid(v) => v.message_es(),
        }
    }

    pub fn message_en(&self) -> &'static str {
        match self {
            OfflineVerdict::SignatureValid => {
                "Valid signature; cancellation not checked (offline, whether the treasury cancelled the receipt is unknown)."
            }
            OfflineVerdict::Demo => "Demonstration receipt — no legal value: no real money was paid.",
            OfflineVerdict::Invalid(v) => v.message_en(),
        }
    }
}

/// Checks `token` against `facts` with the keys of `keyring`.
pub fn verify(facts: &ReceiptFacts, token: &str, keyring: &[PublicKeyEntry]) -> Verdict {
    verify_message(facts.canonical_string().as_bytes(), facts.issue_date, token, keyring)
}

/// Checks `token` against the exact bytes of a document issued on
/// `issue_date` (see [`sign_message`]).
pub fn verify_message(message: &[u8], issue_date: NaiveDate, token: &str, keyring: &[PublicKeyEntry]) -> Verdict {
    let Some((kid, sig_b64)) = token.split_once('.') else {
        return Verdict::Malformed;
    };
    let kid_ok = kid.len() == KID_LEN && kid.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !kid_ok || sig_b64.len() != SIGNATURE_B64_LEN {
        return Verdict::Malformed;
    }
    let Some(sig_bytes) = decode_b64url_exact::<64>(sig_b64) else {
        return Verdict::Malformed;
    };
    let signature = Signature::from_bytes(&sig_bytes);

    let mut known = false;
    let mut good_signature = false;
    for entry in keyring.iter().filter(|e| e.kid == kid) {
        known = true;
        if entry.key.verify_strict(message, &signature).is_ok() {
            good_signature = true;
            if entry.is_valid_on(issue_date) {
                return Verdict::Authentic { kid: kid.to_string() };
            }
        }
    }
    match (known, good_signature) {
        (false, _) => Verdict::UnknownKey { kid: kid.to_string() },
        (true, true) => Verdict::KeyNotValidOnDate { kid: kid.to_string() },
        (true, false) => Verdict::Forged,
    }
}

// ---------------------------------------------------------------------------
// URL

/// The verification URL for a recibo: `<base>/v/<folio>?s=<token>`. A
/// trailing `/` of `base` is dropped. Folio and token need no escaping.
pub fn build_verify_url(base: &str, folio: &Folio, token: &SignatureToken) -> String {
    format!("{}/v/{folio}?s={token}", base.trim_end_matches('/'))
}

/// Reads the folio and the token out of a verification URL, as scanned from
/// the QR code or pasted by a person:
/// `https://host/v/A-2026-000123?s=<token>`.
///
/// Accepted: surrounding whitespace, `http`/`https` or no scheme, any host
/// and any path prefix before `/v/<folio>` (the host is not checked: trust
/// comes from the signature), a trailing `/` after the folio, percent-encoded
/// characters in the folio and the token, other query parameters and a
/// `#fragment` (ignored), a lowercase folio (normalised). Refused: a
/// missing or repeated `s`, invalid percent-encoding. The token itself is
/// checked by [`verify`].
pub fn parse_verify_url(url: &str) -> Result<(Folio, String), VerifyUrlError> {
    parse_signed_url(url, "v")
}

/// Reads the folio and the token out of any signed document's URL
/// `<base>/<segment>/<folio>?s=<token>` (`v` for receipts, `p` for
/// permits), with the same rules as [`parse_verify_url`].
pub fn parse_signed_url(url: &str, segment: &str) -> Result<(Folio, String), VerifyUrlError> {
    let url = url.trim();
    let url = url.split_once('#').map_or(url, |(before, _)| before);
    let (before_query, query) = url.split_once('?').ok_or(VerifyUrlError::MissingSignature)?;

    let without_scheme = match before_query.split_once("://") {
        Some((scheme, rest)) => {
            if !(scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http")) {
                return Err(VerifyUrlError::NotAVerifyUrl);
            }
            rest
        }
        None => before_query,
    };
    // The path starts at the first '/' (after the host, if any).
    let path = without_scheme.find('/').map(|i| &without_scheme[i..]).ok_or(VerifyUrlError::NotAVerifyUrl)?;
    let path = path.strip_suffix('/').unwrap_or(path);
    let mut segments = path.rsplit('/');
    let folio_segment = segments.next().ok_or(VerifyUrlError::NotAVerifyUrl)?;
    if segments.next() != Some(segment) {
        return Err(VerifyUrlError::NotAVerifyUrl);
    }
    let folio = Folio::parse(&percent_decode(folio_segment)?).map_err(VerifyUrlError::Folio)?;

    let mut token = None;
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if percent_decode(key)? == "s" {
            if token.is_some() {
                return Err(VerifyUrlError::RepeatedSignature);
            }
            token = Some(percent_decode(value)?);
        }
    }
    match token {
        Some(t) if !t.is_empty() => Ok((folio, t)),
        _ => Err(VerifyUrlError::MissingSignature),
    }
}

/// Decodes `%XX` escapes (no `+` → space: tokens never contain either).
fn percent_decode(s: &str) -> Result<String, VerifyUrlError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or(VerifyUrlError::Encoding)?;
            let hex = std::str::from_utf8(hex).map_err(|_| VerifyUrlError::Encoding)?;
            if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(VerifyUrlError::Encoding);
            }
            out.push(u8::from_str_radix(hex, 16).map_err(|_| VerifyUrlError::Encoding)?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| VerifyUrlError::Encoding)
}

/// Why a verification URL could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone, Copy)]
pub enum VerifyUrlError {
    #[error("not a receipt verification address (…/v/<folio>?s=…)")]
    NotAVerifyUrl,
    #[error("invalid percent-encoding in the address")]
    Encoding,
    #[error("invalid folio in the address: {0}")]
    Folio(FolioError),
    #[error("the address has no signature (s=…)")]
    MissingSignature,
    #[error("the address has more than one signature (s=…)")]
    RepeatedSignature,
}

impl VerifyUrlError {
    pub fn message_es(&self) -> &'static str {
        match self {
            VerifyUrlError::NotAVerifyUrl => "No es una dirección de verificación de recibo (…/v/<folio>?s=…).",
            VerifyUrlError::Encoding => "La dirección tiene caracteres mal codificados.",
            VerifyUrlError::Folio(e) => e.message_es(),
            VerifyUrlError::MissingSignature => "La dirección no trae la firma del recibo (s=…).",
            VerifyUrlError::RepeatedSignature => "La dirección trae más de una firma (s=…).",
        }
    }

    pub fn message_en(&self) -> &'static str {
        match self {
            VerifyUrlError::NotAVerifyUrl => "Not a receipt verification address (…/v/<folio>?s=…).",
            VerifyUrlError::Encoding => "The address has badly encoded characters.",
            VerifyUrlError::Folio(e) => e.message_en(),
            VerifyUrlError::MissingSignature => "The address carries no receipt signature (s=…).",
            VerifyUrlError::RepeatedSignature => "The address carries more than one signature (s=…).",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn facts(folio: &str, cents: i64, day: &str, account: &str) -> ReceiptFacts {
        ReceiptFacts::new(Folio::parse(folio).unwrap(), Centavos(cents), date(day), account).unwrap()
    }

    fn base_facts() -> ReceiptFacts {
        facts("A-2026-000123", 123_450, "2026-11-22", "P-000123")
    }

    fn key(n: u8) -> SigningKeyPair {
        SigningKeyPair::from_seed([n; 32])
    }

    #[test]
    fn canonical_string_v1() {
        assert_eq!(base_facts().canonical_string(), "recauda-recibo-v1|A-2026-000123|1234.50|2026-11-22|P-000123");
        assert_eq!(
            facts("c1-2027-1000000", 5, "2027-01-02", "  01 002 003 ").canonical_string(),
            "recauda-recibo-v1|C1-2027-1000000|0.05|2027-01-02|01 002 003"
        );
        assert_eq!(
            facts("A-2026-000001", 0, "2026-01-01", "X").canonical_string(),
            "recauda-recibo-v1|A-2026-000001|0.00|2026-01-01|X"
        );
    }

    #[test]
    fn facts_are_validated() {
        let folio = Folio::parse("A-2026-000123").unwrap();
        let d = date("2026-11-22");
        let new = |c: i64, d: NaiveDate, a: &str| ReceiptFacts::new(folio.clone(), Centavos(c), d, a);
        assert_eq!(new(-1, d, "P-1"), Err(FactsError::NegativeTotal));
        assert_eq!(new(1, d, ""), Err(FactsError::AccountEmpty));
        assert_eq!(new(1, d, "   "), Err(FactsError::AccountEmpty));
        assert_eq!(new(1, d, "P|1"), Err(FactsError::AccountCharacters));
        assert_eq!(new(1, d, "P-1|2026-11-22"), Err(FactsError::AccountCharacters));
        assert_eq!(new(1, d, "P\t1"), Err(FactsError::AccountCharacters));
        assert_eq!(new(1, d, "P\n1"), Err(FactsError::AccountCharacters));
        assert_eq!(new(1, d, "PEÑA-1"), Err(FactsError::AccountCharacters));
        assert_eq!(new(1, d, &"9".repeat(65)), Err(FactsError::AccountTooLong));
        assert!(new(1, d, &"9".repeat(64)).is_ok());
        assert_eq!(new(1, NaiveDate::from_ymd_opt(10_000, 1, 1).unwrap(), "P-1"), Err(FactsError::Date));
        assert_eq!(new(1, NaiveDate::from_ymd_opt(999, 12, 31).unwrap(), "P-1"), Err(FactsError::Date));
    }

    #[test]
    fn facts_serde_validates() {
        let f = base_facts();
        let json = serde_json::to_string(&f).unwrap();
        assert_eq!(
            json,
            r#"{"folio":"A-2026-000123","total":"1234.50","issue_date":"2026-11-22","account":"P-000123"}"#
        );
        assert_eq!(serde_json::from_str::<ReceiptFacts>(&json).unwrap(), f);
        let bad = json.replace("P-000123", "P|000123");
        assert!(serde_json::from_str::<ReceiptFacts>(&bad).is_err());
        let neg = json.replace("1234.50", "-1234.50");
        assert!(serde_json::from_str::<ReceiptFacts>(&neg).is_err());
    }

    /// Pins the format: key id derivation, canonical string, signature
    /// encoding. If this changes, printed receipts stop verifying.
    #[test]
    fn golden_token() {
        let k = key(7);
        assert_eq!(k.kid(), GOLDEN_KID);
        assert_eq!(sign(&k, &base_facts()).as_str(), GOLDEN_TOKEN);
        assert_eq!(k.kid(), key_id(&k.public_key()));
        assert_eq!(k.public_key_entry().public_key_b64url(), GOLDEN_PUBLIC_KEY);
    }

    // Computed independently with Python `cryptography` (OpenSSL Ed25519)
    // and `hashlib.sha256`, seed = 32 bytes of 0x07, message =
    // "recauda-recibo-v1|A-2026-000123|1234.50|2026-11-22|P-000123".
    const GOLDEN_KID: &str = "fe812c12";
    const GOLDEN_PUBLIC_KEY: &str = "6kpsY-KcUgq-9VB7Ey7F-ZVHdq6-vnuSQh7qaRRG0iw";
    const GOLDEN_TOKEN: &str =
        "fe812c12.8BGV9p5lkUhgoSSPm-rVpOBoey76KFVrGHxhkrhlktQnfZcjsz1Id9_1NqgxOH5PJQUI-dBkjdW5mUIilKHHDg";

    #[test]
    fn token_shape() {
        let t = sign(&key(1), &base_facts());
        let (kid, sig) = t.as_str().split_once('.').unwrap();
        assert_eq!(kid.len(), KID_LEN);
        assert_eq!(sig.len(), SIGNATURE_B64_LEN);
        assert_eq!(t.as_str().len(), 95);
        assert!(t.as_str().bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.'));
        // Deterministic.
        assert_eq!(sign(&key(1), &base_facts()), t);
    }

    #[test]
    fn authentic_round_trip() {
        let k = key(1);
        let keyring = [k.public_key_entry()];
        let t = sign(&k, &base_facts());
        let v = verify(&base_facts(), t.as_str(), &keyring);
        assert_eq!(v, Verdict::Authentic { kid: k.kid().to_string() });
        assert!(v.is_authentic());
        assert_eq!(v.message_es(), "Recibo auténtico.");
    }

    #[test]
    fn changed_facts_are_forged() {
        let k = key(1);
        let keyring = [k.public_key_entry()];
        let t = sign(&k, &base_facts());
        let changed = [
            facts("A-2026-000123", 123_451, "2026-11-22", "P-000123"), // one centavo
            facts("A-2026-000123", 12_345, "2026-11-22", "P-000123"),  // decimal point moved
            facts("A-2026-000124", 123_450, "2026-11-22", "P-000123"), // folio number
            facts("B-2026-000123", 123_450, "2026-11-22", "P-000123"), // folio series
            facts("A-2025-000123", 123_450, "2026-11-22", "P-000123"), // folio year
            facts("A-2026-000123", 123_450, "2026-11-23", "P-000123"), // date
            facts("A-2026-000123", 123_450, "2026-11-22", "P-000124"), // account
            facts("A-2026-000123", 123_450, "2026-11-22", "p-000123"), // account case
        ];
        for f in changed {
            assert_eq!(verify(&f, t.as_str(), &keyring), Verdict::Forged, "{}", f.canonical_string());
        }
    }

    #[test]
    fn other_keys_are_detected() {
        let legit = key(1);
        let attacker = key(2);
        let keyring = [legit.public_key_entry()];
        let f = base_facts();

        // Attacker signs with their own key under their own kid: unknown.
        let own = sign(&attacker, &f);
        assert_eq!(verify(&f, own.as_str(), &keyring), Verdict::UnknownKey { kid: attacker.kid().to_string() });

        // Attacker signs with their key but claims the legitimate kid.
        let (_, sig) = own.as_str().split_once('.').unwrap();
        let claimed = format!("{}.{sig}", legit.kid());
        assert_eq!(verify(&f, &claimed, &keyring), Verdict::Forged);

        // Legit signature with a kid that is not in the keyring.
        let legit_token = sign(&legit, &f);
        let (_, sig) = legit_token.as_str().split_once('.').unwrap();
        assert_eq!(verify(&f, &format!("00000000.{sig}"), &keyring), Verdict::UnknownKey { kid: "00000000".into() });

        // Empty keyring.
        assert_eq!(verify(&f, legit_token.as_str(), &[]), Verdict::UnknownKey { kid: legit.kid().to_string() });
    }

    #[test]
    fn flipped_signature_bits_are_forged() {
        let k = key(1);
        let keyring = [k.public_key_entry()];
        let f = base_facts();
        let t = sign(&k, &f);
        let (kid, sig) = t.as_str().split_once('.').unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(sig).unwrap();
        for i in [0, 31, 32, 63] {
            bytes[i] ^= 0x01;
            let token = format!("{kid}.{}", URL_SAFE_NO_PAD.encode(&bytes));
            assert_eq!(verify(&f, &token, &keyring), Verdict::Forged, "byte {i}");
            bytes[i] ^= 0x01;
        }
    }

    #[test]
    fn malformed_tokens() {
        let k = key(1);
        let keyring = [k.public_key_entry()];
        let f = base_facts();
        let t = sign(&k, &f).into_string();
        let (kid, sig) = t.split_once('.').unwrap();
        let malformed = [
            String::new(),
            "garbage".into(),
            "...".into(),
            "\u{0}\u{1}".into(),
            kid.to_string(),
            format!("{kid}."),
            format!(".{sig}"),
            t[..t.len() - 1].to_string(), // truncated by one char
            t[..60].to_string(),          // truncated QR
            format!("{t}A"),              // one char too many
            format!("{t}="),              // padding
            format!("{kid}.{sig}.{sig}"),
            format!("{}.{sig}", kid.to_uppercase()),
            format!("{}.{sig}", &kid[..7]),
            format!("{kid}x.{sig}"),
            format!("{kid}.+{}", &sig[1..]), // standard-alphabet char
            format!("{kid}./{}", &sig[1..]),
            format!("{kid}.{}", "*".repeat(86)),
            format!("{kid}.{}", URL_SAFE_NO_PAD.encode([0u8; 63])), // 63 bytes
            format!(" {t}"),
        ];
        for m in &malformed {
            assert_eq!(verify(&f, m, &keyring), Verdict::Malformed, "{m:?}");
        }
        // Non-canonical base64: same bytes but the unused low bits of the
        // last character set (86 chars carry 516 bits for 512).
        let last = sig.as_bytes()[85];
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let idx = alphabet.iter().position(|&c| c == last).unwrap();
        let tweaked = alphabet[idx ^ 0b0001] as char;
        let token = format!("{kid}.{}{tweaked}", &sig[..85]);
        assert_eq!(verify(&f, &token, &keyring), Verdict::Malformed);
    }

    #[test]
    fn key_rotation() {
        let old = key(1);
        let new = key(2);
        let keyring = [
            old.public_key_entry().with_validity(Some(date("2025-01-01")), Some(date("2026-06-30"))).unwrap(),
            new.public_key_entry().with_validity(Some(date("2026-07-01")), None).unwrap(),
        ];
        let old_receipt = facts("A-2026-000010", 50_000, "2026-03-15", "P-1");
        let new_receipt = facts("A-2026-090000", 70_000, "2026-11-22", "P-2");
        let old_token = sign(&old, &old_receipt);
        let new_token = sign(&new, &new_receipt);

        assert_eq!(
            verify(&old_receipt, old_token.as_str(), &keyring),
            Verdict::Authentic { kid: old.kid().to_string() }
        );
        assert_eq!(
            verify(&new_receipt, new_token.as_str(), &keyring),
            Verdict::Authentic { kid: new.kid().to_string() }
        );
        // Bounds are inclusive.
        let last_day = facts("A-2026-050000", 1, "2026-06-30", "P-3");
        assert!(verify(&last_day, sign(&old, &last_day).as_str(), &keyring).is_authentic());
        // The retired key signing after its end date (e.g. a leaked key).
        let late = sign(&old, &new_receipt);
        assert_eq!(
            verify(&new_receipt, late.as_str(), &keyring),
            Verdict::KeyNotValidOnDate { kid: old.kid().to_string() }
        );
        // The new key backdating a receipt before its start.
        let early = sign(&new, &old_receipt);
        assert_eq!(
            verify(&old_receipt, early.as_str(), &keyring),
            Verdict::KeyNotValidOnDate { kid: new.kid().to_string() }
        );
        // A keyring that dropped the old key no longer knows old receipts.
        assert_eq!(
            verify(&old_receipt, old_token.as_str(), &keyring[1..]),
            Verdict::UnknownKey { kid: old.kid().to_string() }
        );
        // Tampering is still Forged, not a date problem.
        let mut tampered = new_receipt.clone();
        tampered.total = Centavos(7_000);
        assert_eq!(verify(&tampered, late.as_str(), &keyring), Verdict::Forged);
    }

    #[test]
    fn keyring_json() {
        let k = key(1);
        let entry = k.public_key_entry().with_validity(Some(date("2026-01-01")), None).unwrap();
        let json = serde_json::to_string(&entry).unwrap();
        assert_eq!(
            json,
            format!(
                r#"{{"kid":"{}","public_key_b64url":"{}","valid_from":"2026-01-01"}}"#,
                k.kid(),
                URL_SAFE_NO_PAD.encode(k.public_key())
            )
        );
        let back: PublicKeyEntry = serde_json::from_str(&json).unwrap();
        assert_eq!(back, entry);
        let ring: Vec<PublicKeyEntry> = serde_json::from_str(&format!("[{json}]")).unwrap();
        assert!(verify(&base_facts(), sign(&k, &base_facts()).as_str(), &ring).is_authentic());

        // A kid that does not belong to the key is refused.
        let wrong_kid = json.replace(k.kid(), key(2).kid());
        let err = serde_json::from_str::<PublicKeyEntry>(&wrong_kid).unwrap_err();
        assert!(err.to_string().contains("key id does not match"), "{err}");
        // Another key under the legit kid is refused too.
        let swapped =
            json.replace(&URL_SAFE_NO_PAD.encode(k.public_key()), &URL_SAFE_NO_PAD.encode(key(2).public_key()));
        assert!(serde_json::from_str::<PublicKeyEntry>(&swapped).is_err());
        // Bad key encodings and inverted validity.
        for bad in [
            json.replace(&URL_SAFE_NO_PAD.encode(k.public_key()), "AAAA"),
            json.replace(
                &URL_SAFE_NO_PAD.encode(k.public_key()),
                &base64::engine::general_purpose::STANDARD.encode(k.public_key()),
            ),
            json.replace(r#""valid_from":"2026-01-01""#, r#""valid_from":"2026-01-01","valid_until":"2025-12-31""#),
            json.replace(r#""kid""#, r#""extra":1,"kid""#),
        ] {
            assert!(serde_json::from_str::<PublicKeyEntry>(&bad).is_err(), "{bad}");
        }
        // Minimal form.
        let min =
            format!(r#"{{"kid":"{}","public_key_b64url":"{}"}}"#, k.kid(), URL_SAFE_NO_PAD.encode(k.public_key()));
        let e: PublicKeyEntry = serde_json::from_str(&min).unwrap();
        assert_eq!((e.valid_from(), e.valid_until()), (None, None));
        assert!(e.is_valid_on(date("1999-01-01")));
    }

    #[test]
    fn weak_public_key_is_refused() {
        // The identity point (small order) would accept forged signatures
        // under non-strict verification.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert_eq!(PublicKeyEntry::new(identity), Err(KeyError::PublicKey));
        let entry = key(3).public_key_entry();
        assert_eq!(PublicKeyEntry::new(entry.public_key()), Ok(entry));
    }

    #[test]
    fn seed_from_b64url() {
        let seed = [9u8; 32];
        let b64 = URL_SAFE_NO_PAD.encode(seed);
        let k = SigningKeyPair::from_seed_b64url(&format!(" {b64}\n")).unwrap();
        assert_eq!(k.public_key(), SigningKeyPair::from_seed(seed).public_key());
        assert_eq!(SigningKeyPair::from_seed_b64url("short").unwrap_err(), KeyError::Seed);
        assert_eq!(SigningKeyPair::from_seed_b64url(&URL_SAFE_NO_PAD.encode([9u8; 31])).unwrap_err(), KeyError::Seed);
        // Debug never shows the secret.
        let dbg = format!("{k:?}");
        assert!(dbg.contains(k.kid()) && !dbg.contains(&b64) && !dbg.contains("9, 9"), "{dbg}");
    }

    #[test]
    fn url_build_and_parse() {
        let k = key(1);
        let f = base_facts();
        let t = sign(&k, &f);
        let url = build_verify_url("https://pagos.ejemplo.gob.mx/", f.folio(), &t);
        assert_eq!(url, format!("https://pagos.ejemplo.gob.mx/v/A-2026-000123?s={t}"));
        let (folio, token) = parse_verify_url(&url).unwrap();
        assert_eq!(&folio, f.folio());
        assert_eq!(token, t.as_str());
        assert!(verify(&f, &token, &[k.public_key_entry()]).is_authentic());

        let (kid, sig) = t.as_str().split_once('.').unwrap();
        let accepted = [
            format!("  {url}\n"),
            format!("http://localhost:3000/v/A-2026-000123?s={t}"),
            format!("HTTPS://pagos.ejemplo.gob.mx/v/A-2026-000123?s={t}"),
            format!("https://ejemplo.gob.mx/tesoreria/v/A-2026-000123?s={t}"),
            format!("https://pagos.ejemplo.gob.mx/v/a-2026-000123?s={t}"),
            format!("https://pagos.ejemplo.gob.mx/v/A-2026-000123/?s={t}"),
            format!("https://pagos.ejemplo.gob.mx/v/A%2D2026%2D000123?s={t}"),
            format!("https://pagos.ejemplo.gob.mx/v/A-2026-000123?s={kid}%2E{sig}"),
            format!("https://pagos.ejemplo.gob.mx/v/A-2026-000123?s={kid}%2e{sig}"),
            format!("https://pagos.ejemplo.gob.mx/v/A-2026-000123?utm=qr&s={t}&x"),
            format!("https://pagos.ejemplo.gob.mx/v/A-2026-000123?%73={t}"),
            format!("https://pagos.ejemplo.gob.mx/v/A-2026-000123?s={t}#top"),
            format!("pagos.ejemplo.gob.mx/v/A-2026-000123?s={t}"),
            format!("/v/A-2026-000123?s={t}"),
        ];
        for u in &accepted {
            assert_eq!(parse_verify_url(u), Ok((f.folio().clone(), t.as_str().to_string())), "{u}");
        }

        use VerifyUrlError::*;
        let rejected = [
            (String::new(), MissingSignature),
            ("https://pagos.ejemplo.gob.mx/v/A-2026-000123".to_string(), MissingSignature),
            ("https://pagos.ejemplo.gob.mx/v/A-2026-000123?s=".to_string(), MissingSignature),
            ("https://pagos.ejemplo.gob.mx/v/A-2026-000123?x=1".to_string(), MissingSignature),
            (format!("https://pagos.ejemplo.gob.mx/v/A-2026-000123?s={t}&s={t}"), RepeatedSignature),
            (format!("ftp://pagos.ejemplo.gob.mx/v/A-2026-000123?s={t}"), NotAVerifyUrl),
            (format!("javascript://x/v/A-2026-000123?s={t}"), NotAVerifyUrl),
            (format!("https://pagos.ejemplo.gob.mx/r/A-2026-000123?s={t}"), NotAVerifyUrl),
            (format!("https://pagos.ejemplo.gob.mx/A-2026-000123?s={t}"), NotAVerifyUrl),
            (format!("https://pagos.ejemplo.gob.mx?s={t}"), NotAVerifyUrl),
            (format!("https://pagos.ejemplo.gob.mx/v/?s={t}"), NotAVerifyUrl),
            (format!("https://pagos.ejemplo.gob.mx/v/A-2026-123?s={t}"), Folio(FolioError::Number)),
            (format!("https://pagos.ejemplo.gob.mx/v/A-2026-00012%?s={t}"), Encoding),
            (format!("https://pagos.ejemplo.gob.mx/v/A-2026-000123?s={kid}%2G{sig}"), Encoding),
            (format!("https://pagos.ejemplo.gob.mx/v/A-2026-000123?s=%FF{t}"), Encoding),
        ];
        for (u, err) in &rejected {
            assert_eq!(parse_verify_url(u), Err(*err), "{u}");
        }
        assert_eq!(Folio(FolioError::Number).message_es(), FolioError::Number.message_es());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn any_valid_facts_round_trip_and_any_change_is_caught(
            number in 1u32..,
            cents in 0i64..=crate::domain::money::MAX_INPUT.0,
            days in 0i64..30_000,
            account in "[ -{}~]{1,64}",
            delta in 1i64..1_000_000,
        ) {
            prop_assume!(!account.trim().is_empty());
            let d = date("2000-01-01") + chrono::Duration::days(days);
            let folio = Folio::new("A", 2026, number).unwrap();
            let f = ReceiptFacts::new(folio, Centavos(cents), d, &account).unwrap();
            let k = key(5);
            let ring = [k.public_key_entry()];
            let t = sign(&k, &f);
            prop_assert!(verify(&f, t.as_str(), &ring).is_authentic());
            let mut g = f.clone();
            g.total = Centavos(cents + delta);
            prop_assert_eq!(verify(&g, t.as_str(), &ring), Verdict::Forged);
            let (folio2, token2) = parse_verify_url(&build_verify_url("https://x.mx", f.folio(), &t)).unwrap();
            prop_assert_eq!(&folio2, f.folio());
            prop_assert_eq!(token2, t.into_string());
        }

        #[test]
        fn verify_never_panics(token in "\\PC{0,120}") {
            let _ = verify(&base_facts(), &token, &[key(1).public_key_entry()]);
        }

        #[test]
        fn parse_verify_url_never_panics(url in "\\PC{0,200}") {
            let _ = parse_verify_url(&url);
        }
    }
}

/// Property-based fuzzing of [`parse_verify_url`] (the receipt QR's
/// address): `cargo test -p app --features ssr --lib fuzz::` (the CI stage
/// `fuzz` runs it with `PROPTEST_CASES`).
#[cfg(test)]
mod fuzz {
    use super::*;
    use crate::domain::fuzz::{any_text, config};
    use proptest::prelude::*;

    /// Pieces of verification addresses, glued at random.
    fn url_like() -> impl Strategy<Value = String> {
        let pieces = vec![
            "https://",
            "http://",
            "ftp://",
            "://",
            "pagos.ejemplo.gob.mx",
            ":3000",
            "/",
            "/v/",
            "v",
            "A-2026-000123",
            "a-2026-1",
            "?",
            "&",
            "=",
            "s",
            "s=",
            "%",
            "%2",
            "%2F",
            "%2d",
            "%73",
            "%FF",
            "%C3%B1",
            "%00",
            "#",
            " ",
            "ñ",
            "..",
            "0a1b2c3d.",
            "Zm9v",
            "\u{feff}",
            "\n",
        ];
        prop::collection::vec(prop::sample::select(pieces), 0..16).prop_map(|p| p.concat())
    }

    /// Checks what every answer of [`parse_verify_url`] must satisfy.
    fn check(url: &str) -> Result<(), TestCaseError> {
        match parse_verify_url(url) {
            Ok((folio, token)) => {
                prop_assert!(!token.is_empty());
                prop_assert_eq!(Folio::parse(&folio.to_string()), Ok(folio.clone()));
                // What was read out of an address reads the same from the
                // address built for it.
                let canonical = format!("https://x.mx/v/{folio}?s={}", percent_encode(&token, &[]));
                prop_assert_eq!(parse_verify_url(&canonical), Ok((folio, token)));
            }
            Err(e) => {
                prop_assert!(!e.message_es().is_empty() && !e.message_en().is_empty());
                prop_assert!(!e.to_string().is_empty());
            }
        }
        Ok(())
    }

    /// `s` with every byte outside `[A-Za-z0-9._-]` percent-encoded, and
    /// the others too where `mask` says so (cycled); upper or lower hex by
    /// the byte's position.
    fn percent_encode(s: &str, mask: &[bool]) -> String {
        let mut out = String::new();
        for (i, b) in s.bytes().enumerate() {
            let plain = b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-');
            if plain && !mask.get(i % mask.len().max(1)).copied().unwrap_or(false) {
                out.push(b as char);
            } else if i % 2 == 0 {
                out.push_str(&format!("%{b:02X}"));
            } else {
                out.push_str(&format!("%{b:02x}"));
            }
        }
        out
    }

    fn folio() -> impl Strategy<Value = Folio> {
        ("[A-Z][A-Z0-9]{0,3}", 1000u16..=9999, 1u32..).prop_map(|(s, y, n)| Folio::new(&s, y, n).unwrap())
    }

    /// A token as the signer writes it (the address parser does not check it).
    fn token() -> impl Strategy<Value = String> {
        "[0-9a-f]{8}\\.[A-Za-z0-9_-]{86}"
    }

    /// Everything around `/v/<folio>?…s=<token>…`: scheme, host, path prefix,
    /// other parameters, fragment, whitespace.
    #[derive(Clone, Debug)]
    struct Surroundings {
        scheme: &'static str,
        host: String,
        prefix: String,
        trailing_slash: bool,
        before: Vec<(String, String)>,
        after: Vec<(String, String)>,
        fragment: Option<String>,
        pad: &'static str,
    }

    fn surroundings() -> impl Strategy<Value = Surroundings> {
        // Parameter names that never decode to `s`.
        let param = ("[a-rt-zA-Z_][a-z0-9]{0,5}", "[A-Za-z0-9%.=-]{0,8}")
            .prop_map(|(k, v): (String, String)| (k, v.replace('%', "%25")));
        (
            prop::sample::select(vec!["https://", "http://", "HTTPS://", "Http://", ""]),
            "[a-z0-9][a-z0-9.-]{0,20}(:[0-9]{1,5})?",
            "(/[a-z0-9_.-]{1,8}){0,3}",
            any::<bool>(),
            prop::collection::vec(param.clone(), 0..3),
            prop::collection::vec(param, 0..3),
            prop::option::of("[a-z0-9=&?/#.%]{0,12}"),
            prop::sample::select(vec!["", " ", "\n", "\t \r\n"]),
        )
            .prop_map(|(scheme, host, prefix, trailing_slash, before, after, fragment, pad)| Surroundings {
                scheme,
                host,
                prefix,
                trailing_slash,
                before,
                after,
                fragment,
                pad,
            })
    }

    impl Surroundings {
        /// The address with `folio_segment` and the parameters `s` (already encoded).
        fn url(&self, folio_segment: &str, signatures: &[&str]) -> String {
            let join = |params: &[(String, String)]| params.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>();
            let mut query = join(&self.before);
            query.extend(signatures.iter().map(|s| s.to_string()));
            query.extend(join(&self.after));
            let fragment = self.fragment.as_ref().map(|f| format!("#{f}")).unwrap_or_default();
            format!(
                "{pad}{}{}{}/v/{folio_segment}{}?{}{fragment}{pad}",
                self.scheme,
                self.host,
                self.prefix,
                if self.trailing_slash { "/" } else { "" },
                query.join("&"),
                pad = self.pad,
            )
        }
    }

    fn key() -> SigningKeyPair {
        SigningKeyPair::from_seed([7; 32])
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn any_text_never_panics(url in any_text(200)) {
            check(&url)?;
        }

        #[test]
        fn url_like_text_never_panics(url in url_like()) {
            check(&url)?;
        }

        #[test]
        fn arbitrary_bytes_read_lossily_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            check(&String::from_utf8_lossy(&bytes))?;
        }

        #[test]
        fn every_verify_url_round_trips(
            folio in folio(),
            token in token(),
            around in surroundings(),
            lower in any::<bool>(),
            folio_mask in prop::collection::vec(prop::bool::weighted(0.2), 0..8),
            token_mask in prop::collection::vec(prop::bool::weighted(0.1), 0..8),
            key_mask in prop::collection::vec(any::<bool>(), 0..2),
        ) {
            let folio_text = if lower { folio.to_string().to_lowercase() } else { folio.to_string() };
            let s = format!("{}={}", percent_encode("s", &key_mask), percent_encode(&token, &token_mask));
            let url = around.url(&percent_encode(&folio_text, &folio_mask), &[&s]);
            prop_assert_eq!(parse_verify_url(&url), Ok((folio, token)), "{}", url);
            check(&url)?;
        }

        #[test]
        fn a_repeated_signature_is_refused(
            folio in folio(),
            tokens in (token(), token()),
            around in surroundings(),
            key_masks in (prop::collection::vec(any::<bool>(), 0..2), prop::collection::vec(any::<bool>(), 0..2)),
        ) {
            let first = format!("{}={}", percent_encode("s", &key_masks.0), tokens.0);
            let second = format!("{}={}", percent_encode("s", &key_masks.1), tokens.1);
            let url = around.url(&folio.to_string(), &[&first, &second]);
            prop_assert_eq!(parse_verify_url(&url), Err(VerifyUrlError::RepeatedSignature), "{}", url);
            prop_assert_eq!(
                VerifyUrlError::RepeatedSignature.message_es(),
                "La dirección trae más de una firma (s=…)."
            );
        }

        #[test]
        fn a_missing_or_empty_signature_is_refused(folio in folio(), around in surroundings(), empty in any::<bool>()) {
            let signatures: &[&str] = if empty { &["s="] } else { &[] };
            let url = around.url(&folio.to_string(), signatures);
            prop_assert_eq!(parse_verify_url(&url), Err(VerifyUrlError::MissingSignature), "{}", url);
        }

        #[test]
        fn bad_percent_encoding_is_refused(
            folio in folio(),
            token in token(),
            around in surroundings(),
            at in any::<prop::sample::Index>(),
            // Each one bad whatever follows it.
            bad in prop::sample::select(vec!["%G0", "%0g", "%x", "%-1", "%\u{f1}", "%FF", "%C3", "%ED%A0%80", "%%"]),
            in_folio in any::<bool>(),
        ) {
            let insert = |s: &str| {
                let at = at.index(s.len() + 1);
                format!("{}{bad}{}", &s[..at], &s[at..])
            };
            let (folio_segment, token) =
                if in_folio { (insert(&folio.to_string()), token) } else { (folio.to_string(), insert(&token)) };
            let url = around.url(&folio_segment, &[&format!("s={token}")]);
            prop_assert_eq!(parse_verify_url(&url), Err(VerifyUrlError::Encoding), "{}", url);
        }

        #[test]
        fn a_bad_folio_gives_the_folio_error(
            segment in "[A-Za-z0-9 ._~-]{1,16}",
            token in token(),
            around in surroundings(),
        ) {
            let Err(expected) = Folio::parse(&segment) else {
                return Ok(());
            };
            let url = around.url(&segment, &[&format!("s={token}")]);
            let got = parse_verify_url(&url);
            prop_assert_eq!(got, Err(VerifyUrlError::Folio(expected)), "{}", url);
            prop_assert_eq!(VerifyUrlError::Folio(expected).message_es(), expected.message_es());
        }

        #[test]
        fn another_scheme_or_path_is_not_a_verify_url(
            folio in folio(),
            token in token(),
            scheme in "(ftp|file|javascript|data|httpx|httpss|ws)://",
            path in prop::sample::select(vec!["/r/", "/", "/verify/", "/v/v/x/", "/V/"]),
        ) {
            let with_scheme = format!("{scheme}host/v/{folio}?s={token}");
            prop_assert_eq!(parse_verify_url(&with_scheme), Err(VerifyUrlError::NotAVerifyUrl));
            let with_path = format!("https://host{path}{folio}?s={token}");
            prop_assert_eq!(parse_verify_url(&with_path), Err(VerifyUrlError::NotAVerifyUrl), "{}", with_path);
        }

        #[test]
        fn built_urls_round_trip_with_real_tokens(
            folio in folio(),
            base in "https?://[a-z.]{1,12}(/[a-z]{1,6}){0,2}/{0,3}",
        ) {
            let day = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
            let facts = ReceiptFacts::new(folio.clone(), Centavos(123_450), day, "P-1").unwrap();
            let token = sign(&key(), &facts);
            let url = build_verify_url(&base, &folio, &token);
            let (read_folio, read_token) = parse_verify_url(&url).unwrap();
            prop_assert_eq!(&read_folio, &folio);
            prop_assert!(verify(&facts, &read_token, &[key().public_key_entry()]).is_authentic());
        }
    }
}
