//! Configuration: an optional TOML file plus `RECAUDA_*` environment
//! variables (which win). Secrets only ever come from here, and [`Settings`]
//! never prints them.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use app::stripe::{Secret, StripeConfig};
use chrono::NaiveDate;
use serde::Deserialize;

/// Where the settings file is looked for when `RECAUDA_CONFIG` is not set.
pub const DEFAULT_CONFIG_FILE: &str = "config/recauda.toml";

#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// `sqlite://file.db` (embedded, default) or `postgres://…`.
    pub database_url: String,
    pub addr: SocketAddr,
    /// The municipality file (TOML).
    pub municipality: PathBuf,
    /// Fixes "today" for tests and demos.
    pub today: Option<NaiveDate>,
    /// Lookups per minute per client address (0 = unlimited).
    pub lookup_limit: u32,
    pub trust_forwarded_for: bool,
    /// Where cargo-leptos put the site (CSS, JS, wasm, public files).
    pub site_root: PathBuf,
    /// Stripe (`RECAUDA_STRIPE_SECRET_KEY`, `RECAUDA_STRIPE_WEBHOOK_SECRET`,
    /// `RECAUDA_STRIPE_API_BASE`, `RECAUDA_PUBLIC_URL`); `None` without a
    /// secret key. Its secrets print as `***`.
    pub stripe: Option<StripeConfig>,
    /// The embedded demonstration provider (`RECAUDA_DEMO_PAYMENTS=true`,
    /// or `recauda demo`): "payments" that move no money, with receipts of
    /// their own series that every verdict calls worthless. Never on by
    /// itself: with neither Stripe nor this, online payment is unavailable.
    pub demo_payments: bool,
    /// The portal's public URL (`RECAUDA_PUBLIC_URL`, default
    /// `http://{addr}`): Stripe's return links and receipts' QR codes.
    pub public_url: String,
    /// The receipts' key file (`RECAUDA_RECEIPT_KEYS`, default
    /// `recauda-receipt-keys.json`): created with a new key on first start.
    pub receipt_keys: PathBuf,
    /// The keyring `recauda verify` trusts (`RECAUDA_VERIFY_KEYS`: the JSON
    /// of `/api/v1/receipts/keys`, saved once from the real portal); without
    /// it the CLI asks the configured portal (`public_url`), never the host
    /// a QR code names.
    pub verify_keys: Option<PathBuf>,
}

/// The settings file; every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    database_url: Option<String>,
    addr: Option<String>,
    municipality: Option<PathBuf>,
    today: Option<String>,
    lookup_limit: Option<u32>,
    trust_forwarded_for: Option<bool>,
    site_root: Option<PathBuf>,
    public_url: Option<String>,
    receipt_keys: Option<PathBuf>,
    demo_payments: Option<bool>,
    verify_keys: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("no se pudo leer el archivo de configuración {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("el archivo de configuración {path} no es TOML válido")]
    Parse {
        path: PathBuf,
        #[source]
        source: toml::de::Error,
    },
    #[error("{name}: valor inválido «{value}» ({expected})")]
    Invalid { name: &'static str, value: String, expected: &'static str },
}

impl Settings {
    /// Reads `RECAUDA_CONFIG` (or the default file, if present) and the environment.
    pub fn load() -> Result<Self, ConfigError> {
        let explicit = std::env::var_os("RECAUDA_CONFIG").map(PathBuf::from);
        let path = explicit.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG_FILE));
        let file = if explicit.is_some() || path.exists() { read_file(&path)? } else { FileSettings::default() };
        Self::from_sources(file, |name| std::env::var(name).ok())
    }

    fn from_sources(file: FileSettings, env: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let database_url =
            env("RECAUDA_DATABASE_URL").or(file.database_url).unwrap_or_else(|| "sqlite://recauda.db".into());
        let addr_raw = env("RECAUDA_ADDR").or(file.addr).unwrap_or_else(|| "127.0.0.1:3000".into());
        let addr = addr_raw.parse().map_err(|_| ConfigError::Invalid {
            name: "RECAUDA_ADDR",
            value: addr_raw.clone(),
            expected: "dirección:puerto, p. ej. 127.0.0.1:3000",
        })?;
        let municipality = env("RECAUDA_MUNICIPALITY")
            .map(PathBuf::from)
            .or(file.municipality)
            .unwrap_or_else(|| PathBuf::from("config/municipalities/loreto.toml"));
        let today =
            match env("RECAUDA_TODAY").or(file.today).filter(|s| !s.trim().is_empty()) {
                None => None,
                Some(raw) => Some(NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").map_err(|_| {
                    ConfigError::Invalid { name: "RECAUDA_TODAY", value: raw.clone(), expected: "fecha AAAA-MM-DD" }
                })?),
            };
        let lookup_limit = match env("RECAUDA_LOOKUP_LIMIT") {
            Some(raw) => raw.trim().parse().map_err(|_| ConfigError::Invalid {
                name: "RECAUDA_LOOKUP_LIMIT",
                value: raw.clone(),
                expected: "entero ≥ 0",
            })?,
            None => file.lookup_limit.unwrap_or(30),
        };
        let trust_forwarded_for = match env("RECAUDA_TRUST_FORWARDED_FOR") {
            Some(raw) => matches!(raw.trim(), "1" | "true" | "yes"),
            None => file.trust_forwarded_for.unwrap_or(false),
        };
        let site_root = env("LEPTOS_SITE_ROOT")
            .map(PathBuf::from)
            .or(file.site_root)
            .unwrap_or_else(|| PathBuf::from("target/site"));
        let nonempty = |name: &str| env(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let flag = |name: &'static str| -> Result<bool, ConfigError> {
            match nonempty(name).map(|v| v.to_lowercase()) {
                None => Ok(false),
                Some(v) if matches!(v.as_str(), "1" | "true" | "yes" | "si" | "sí") => Ok(true),
                Some(v) if matches!(v.as_str(), "0" | "false" | "no") => Ok(false),
                Some(v) => Err(ConfigError::Invalid { name, value: v, expected: "true o false" }),
            }
        };
        let spei = flag("RECAUDA_STRIPE_SPEI")?;
        let demo_payments = match nonempty("RECAUDA_DEMO_PAYMENTS") {
            Some(_) => flag("RECAUDA_DEMO_PAYMENTS")?,
            None => file.demo_payments.unwrap_or(false),
        };
        let refund_overpayments = flag("RECAUDA_STRIPE_REFUND_OVERPAYMENTS")?;
        let public_url = nonempty("RECAUDA_PUBLIC_URL")
            .or(file.public_url)
            .unwrap_or_else(|| format!("http://{addr}"))
            .trim_end_matches('/')
            .to_string();
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(ConfigError::Invalid {
                name: "RECAUDA_PUBLIC_URL",
                value: public_url,
                expected: "URL que empiece con http:// o https://",
            });
        }
        let receipt_keys = nonempty("RECAUDA_RECEIPT_KEYS")
            .map(PathBuf::from)
            .or(file.receipt_keys)
            .unwrap_or_else(|| PathBuf::from("recauda-receipt-keys.json"));
        let verify_keys = nonempty("RECAUDA_VERIFY_KEYS").map(PathBuf::from).or(file.verify_keys);
        let stripe = nonempty("RECAUDA_STRIPE_SECRET_KEY").map(|key| StripeConfig {
            secret_key: Secret::new(key),
            webhook_secret: nonempty("RECAUDA_STRIPE_WEBHOOK_SECRET").map(Secret::new),
            webhook_secret_previous: nonempty("RECAUDA_STRIPE_WEBHOOK_SECRET_PREVIOUS").map(Secret::new),
            api_base: nonempty("RECAUDA_STRIPE_API_BASE"),
            public_url: public_url.clone(),
            spei,
            refund_overpayments,
        });
        if demo_payments && stripe.is_some() {
            return Err(ConfigError::Invalid {
                name: "RECAUDA_DEMO_PAYMENTS",
                value: "true".into(),
                expected: "false cuando Stripe está configurado: los pagos reales y los de demostración no se mezclan",
            });
        }
        Ok(Settings {
            database_url,
            addr,
            municipality,
            today,
            lookup_limit,
            trust_forwarded_for,
            site_root,
            stripe,
            demo_payments,
            public_url,
            receipt_keys,
            verify_keys,
        })
    }

    /// The database URL with any password replaced, for logs.
    pub fn database_url_for_logs(&self) -> String {
        redact_url(&self.database_url)
    }
}

fn read_file(path: &Path) -> Result<FileSettings, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.into(), source })?;
    toml::from_str(&text).map_err(|source| ConfigError::Parse { path: path.into(), source })
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let Some((userinfo, host)) = rest.rsplit_once('@') else { return url.to_string() };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Settings::from_sources(FileSettings::default(), |k| vars.get(k).cloned())
    }

    #[test]
    fn defaults_are_an_embedded_database_and_loreto() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.database_url, "sqlite://recauda.db");
        assert_eq!(s.municipality, PathBuf::from("config/municipalities/loreto.toml"));
        assert_eq!(s.lookup_limit, 30);
        assert_eq!(s.today, None);
    }

    #[test]
    fn environment_overrides_and_is_validated() {
        let s = settings(&[("RECAUDA_TODAY", "2026-11-21"), ("RECAUDA_ADDR", "127.0.0.1:0")]).unwrap();
        assert_eq!(s.today, NaiveDate::from_ymd_opt(2026, 11, 21));
        assert_eq!(s.addr.port(), 0);
        let err = settings(&[("RECAUDA_TODAY", "2026-02-30")]).unwrap_err();
        assert!(err.to_string().contains("RECAUDA_TODAY"));
        assert!(settings(&[("RECAUDA_ADDR", "nowhere")]).is_err());
    }

    #[test]
    fn stripe_is_configured_by_its_secret_key_and_never_printed() {
        assert_eq!(settings(&[("RECAUDA_STRIPE_WEBHOOK_SECRET", "whsec_1")]).unwrap().stripe, None);
        let s = settings(&[
            ("RECAUDA_STRIPE_SECRET_KEY", "sk_test_secret"),
            ("RECAUDA_STRIPE_WEBHOOK_SECRET", "whsec_secret"),
            ("RECAUDA_STRIPE_API_BASE", "http://127.0.0.1:9"),
        ])
        .unwrap();
        let stripe = s.stripe.as_ref().expect("configured");
        assert_eq!(stripe.secret_key.expose(), "sk_test_secret");
        assert_eq!(stripe.api_base.as_deref(), Some("http://127.0.0.1:9"));
        let shown = format!("{s:?}");
        assert!(!shown.contains("sk_test_secret") && !shown.contains("whsec_secret"), "{shown}");
        assert!(shown.contains("***"));
    }

    #[test]
    fn the_demonstration_provider_is_never_on_by_itself() {
        assert!(!settings(&[]).unwrap().demo_payments, "no payment settings: no provider at all");
        assert!(settings(&[("RECAUDA_DEMO_PAYMENTS", "true")]).unwrap().demo_payments);
        assert!(!settings(&[("RECAUDA_DEMO_PAYMENTS", "false")]).unwrap().demo_payments);
        assert!(settings(&[("RECAUDA_DEMO_PAYMENTS", "quizá")]).is_err());
        let both = settings(&[("RECAUDA_DEMO_PAYMENTS", "true"), ("RECAUDA_STRIPE_SECRET_KEY", "sk_test_1")]);
        assert!(both.unwrap_err().to_string().contains("RECAUDA_DEMO_PAYMENTS"), "real and demo payments never mix");
    }

    #[test]
    fn passwords_never_reach_the_logs() {
        assert_eq!(redact_url("postgres://app:s3cr3t@db:5432/recauda"), "postgres://app:***@db:5432/recauda");
        assert_eq!(redact_url("sqlite://recauda.db"), "sqlite://recauda.db");
    }
}
