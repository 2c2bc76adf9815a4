//! `recauda verify <url>`: checks a receipt's QR code with the same shared
//! code as the portal and the cashier desk (`app::domain::receipt_sig`).
//!
//! * **Pinned**: the portal is the configured one (`RECAUDA_PUBLIC_URL`, or
//!   `--portal`), never whatever host the QR code names: a QR that points
//!   elsewhere is refused before any request ([`VerifyCliError::Untrusted`]).
//!   The keyring is the configured one (`RECAUDA_VERIFY_KEYS`, or
//!   `--llaves`: the JSON of `/api/v1/receipts/keys` saved from the real
//!   portal) or, without one, the configured portal's.
//! * Online (default): the receipt's facts come from the portal
//!   (`GET /api/v1/receipts/{folio}/verify?s=…`); the signature is then
//!   checked here. Only the portal's "authentic" is accepted.
//! * Offline (`--total`, `--fecha`, `--cuenta` as printed on the paper, and
//!   a pinned keyring): no network; a good signature is "firma válida;
//!   cancelación no verificada".

use app::domain::money::Centavos;
use app::domain::receipt_sig::{parse_verify_url, verify, OfflineVerdict, PublicKeyEntry, ReceiptFacts, Verdict};
use app::i18n::Lang;
use app::receipts::VerdictKind;
use chrono::NaiveDate;
use serde::Deserialize;

/// What the CLI concluded, and why.
#[derive(Debug, PartialEq, Eq)]
pub struct CliVerdict {
    pub verdict: Verdict,
    /// The portal's own word, when it was asked (`authentic`, `forged`, …).
    pub portal: Option<String>,
    pub facts: Option<ReceiptFacts>,
}

impl CliVerdict {
    /// Whether the receipt may be accepted: online, the portal calls it
    /// authentic (not cancelled, not a demonstration) and its signature
    /// checks here too; offline, the signature is good and the receipt is
    /// not a demonstration one (its cancellation cannot be known).
    pub fn accepted(&self) -> bool {
        match (&self.portal, &self.facts) {
            (Some(portal), _) => portal == VerdictKind::Authentic.as_str() && self.verdict.is_authentic(),
            (None, Some(facts)) => OfflineVerdict::of(facts, self.verdict.clone()).accepted(),
            (None, None) => false,
        }
    }

    /// The conclusion in one Spanish sentence.
    pub fn conclusion_es(&self) -> String {
        match (&self.portal, &self.facts) {
            (Some(_), _) if !self.verdict.is_authentic() => self.verdict.message_es().to_string(),
            (Some(portal), _) => match VerdictKind::parse(portal) {
                Some(kind) => format!("{}. {}", kind.title(Lang::Es), kind.explanation(Lang::Es)),
                None => format!("el portal respondió «{portal}»"),
            },
            (None, Some(facts)) => OfflineVerdict::of(facts, self.verdict.clone()).message_es().to_string(),
            (None, None) => self.verdict.message_es().to_string(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyCliError {
    #[error("{0}")]
    Usage(String),
    #[error("no se pudo consultar {url}")]
    Http {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("el portal respondió algo inesperado: {0}")]
    Portal(String),
    #[error(
        "el código QR apunta a {qr}, que no es el portal configurado ({trusted}): no se consultó. \
         Trate el recibo como no verificado (puede ser falso)"
    )]
    Untrusted { qr: String, trusted: String },
    #[error("no hay un portal configurado: defina RECAUDA_PUBLIC_URL o use --portal https://…")]
    NoPortal,
    #[error("no se pudo leer el archivo de llaves {path}")]
    Keys {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

#[derive(Deserialize)]
struct Keyring {
    keys: Vec<PublicKeyEntry>,
}

#[derive(Deserialize)]
struct PortalVerification {
    verdict: String,
    receipt: Option<PortalReceipt>,
}

#[derive(Deserialize)]
struct PortalReceipt {
    folio: String,
    issued_on: NaiveDate,
    account: String,
    total: Centavos,
}

/// Options after the URL.
#[derive(Default, Debug)]
pub struct Options {
    pub total: Option<String>,
    pub date: Option<String>,
    pub account: Option<String>,
    /// The pinned keyring (`--llaves`, else `RECAUDA_VERIFY_KEYS`).
    pub keys: Option<String>,
    /// The trusted portal (`--portal`, else `RECAUDA_PUBLIC_URL`).
    pub portal: Option<String>,
}

impl Options {
    pub fn parse(args: &[&str]) -> Result<Options, VerifyCliError> {
        let mut o = Options::default();
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            let value = it.next().map(|v| v.to_string());
            let slot = match *flag {
                "--total" => &mut o.total,
                "--fecha" => &mut o.date,
                "--cuenta" => &mut o.account,
                "--llaves" => &mut o.keys,
                "--portal" => &mut o.portal,
                other => return Err(VerifyCliError::Usage(format!("opción desconocida «{other}»"))),
            };
            *slot = Some(value.ok_or_else(|| VerifyCliError::Usage(format!("falta el valor de {flag}")))?);
        }
        Ok(o)
    }
}

/// The scheme and host (with its port) of a URL, lower case
/// (`https://pagos.example.gob.mx`); user information is refused.
pub fn origin(url: &str) -> Result<String, VerifyCliError> {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .map(|r| ("https", r))
        .or_else(|| lower.strip_prefix("http://").map(|r| ("http", r)));
    match rest {
        Some((scheme, r)) => {
            let host = r.split(['/', '?', '#']).next().unwrap_or_default();
            if host.is_empty() || host.contains('@') {
                return Err(VerifyCliError::Usage(format!("la URL «{url}» no tiene un servidor válido")));
            }
            Ok(format!("{scheme}://{host}"))
        }
        None => Err(VerifyCliError::Usage("la URL debe empezar con http:// o https://".into())),
    }
}

/// Runs the check. `client` is used only online.
pub async fn run(url: &str, options: &Options, client: &reqwest::Client) -> Result<CliVerdict, VerifyCliError> {
    let (folio, token) = parse_verify_url(url).map_err(|e| VerifyCliError::Usage(e.message_es().into()))?;
    // The portal is the configured one; a QR naming another host is refused
    // before anything is asked of anyone.
    let trusted = origin(options.portal.as_deref().ok_or(VerifyCliError::NoPortal)?)?;
    let qr = origin(url)?;
    if qr != trusted {
        return Err(VerifyCliError::Untrusted { qr, trusted });
    }
    let keyring: Vec<PublicKeyEntry> = match &options.keys {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).map_err(|source| VerifyCliError::Keys { path: path.clone(), source })?;
            serde_json::from_str::<Keyring>(&text)
                .map_err(|e| VerifyCliError::Usage(format!("{path}: no es una lista de llaves válida: {e}")))?
                .keys
        }
        None => {
            let keys_url = format!("{trusted}/api/v1/receipts/keys");
            let r = client
                .get(&keys_url)
                .send()
                .await
                .map_err(|source| VerifyCliError::Http { url: keys_url.clone(), source })?;
            r.json::<Keyring>().await.map_err(|source| VerifyCliError::Http { url: keys_url, source })?.keys
        }
    };
    let offline = [&options.total, &options.date, &options.account];
    if offline.iter().any(|o| o.is_some()) {
        let (Some(total), Some(date), Some(account)) = (&options.total, &options.date, &options.account) else {
            return Err(VerifyCliError::Usage("sin red se necesitan --total, --fecha y --cuenta".into()));
        };
        let total = Centavos::parse_pesos(total).map_err(|e| VerifyCliError::Usage(e.message_es().into()))?;
        let date = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d")
            .or_else(|_| NaiveDate::parse_from_str(date.trim(), "%d/%m/%Y"))
            .map_err(|_| VerifyCliError::Usage(format!("fecha inválida «{date}» (AAAA-MM-DD o DD/MM/AAAA)")))?;
        let facts =
            ReceiptFacts::new(folio, total, date, account).map_err(|e| VerifyCliError::Usage(e.message_es().into()))?;
        let verdict = verify(&facts, &token, &keyring);
        return Ok(CliVerdict { verdict, portal: None, facts: Some(facts) });
    }
    let check_url = format!("{trusted}/api/v1/receipts/{folio}/verify");
    let r = client
        .get(&check_url)
        .query(&[("s", token.as_str())])
        .send()
        .await
        .map_err(|source| VerifyCliError::Http { url: check_url.clone(), source })?;
    let answer: PortalVerification =
        r.json().await.map_err(|source| VerifyCliError::Http { url: check_url, source })?;
    let Some(receipt) = answer.receipt else {
        // The portal shows no facts unless the signature is right.
        return Ok(CliVerdict { verdict: Verdict::Forged, portal: Some(answer.verdict), facts: None });
    };
    if receipt.folio != folio.to_string() {
        return Err(VerifyCliError::Portal(format!("pedimos el folio {folio} y respondió {}", receipt.folio)));
    }
    let facts = ReceiptFacts::new(folio, receipt.total, receipt.issued_on, &receipt.account)
        .map_err(|e| VerifyCliError::Portal(e.message_es().into()))?;
    let verdict = verify(&facts, &token, &keyring);
    Ok(CliVerdict { verdict, portal: Some(answer.verdict), facts: Some(facts) })
}
