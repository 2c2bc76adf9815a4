//! The only parts of the portal that ship WebAssembly. Each one enhances a
//! page that already works without it.

use leptos::prelude::*;

use crate::domain::rfc::Rfc;
use crate::i18n::Lang;

/// The RFC input of the lookup form, with a live check as the citizen types.
/// Without JavaScript it is a plain input and the server does the same check.
#[island]
pub fn RfcField(lang: Lang, value: String, invalid: bool) -> impl IntoView {
    let (hint, set_hint) = signal(None::<(bool, String)>);
    let on_input = move |ev: leptos::ev::Event| set_hint.set(live_rfc_hint(&event_target_value(&ev), lang));
    let described = if invalid { "rfc-help rfc-error rfc-live" } else { "rfc-help rfc-live" };
    view! {
        <input id="rfc" name="rfc" type="text" value=value autocomplete="off" autocapitalize="characters"
            spellcheck="false" maxlength="20" aria-invalid=invalid.to_string() aria-describedby=described
            data-testid="lookup-rfc-input" on:input=on_input/>
        <p id="rfc-live" class="live-hint" aria-live="polite"
            class:ok=move || hint.get().is_some_and(|(ok, _)| ok)>
            {move || hint.get().map(|(_, text)| text)}
        </p>
    }
}

/// What to tell someone who has typed `raw` so far: nothing while they are
/// still typing, then whether the RFC is well formed.
pub fn live_rfc_hint(raw: &str, lang: Lang) -> Option<(bool, String)> {
    let typed = raw.trim().chars().filter(|c| !c.is_whitespace() && *c != '-').count();
    if typed < 12 {
        return None;
    }
    Some(match Rfc::parse(raw) {
        Ok(rfc) if rfc.check_digit_ok() => {
            (true, lang.pick("El RFC tiene un formato válido.", "The RFC is well formed.").to_string())
        }
        Ok(_) => (
            false,
            lang.pick(
                "Verifique su RFC: su dígito verificador no coincide.",
                "Check your RFC: its check digit does not match.",
            )
            .to_string(),
        ),
        Err(e) => (
            false,
            match lang {
                Lang::Es => e.message_es().to_string(),
                Lang::En => e.message_en().to_string(),
            },
        ),
    })
}

/// What the offline receipt check concluded: whether the signature may be
/// accepted (`authentic`: good, and not a demonstration receipt), whether
/// it is a demonstration receipt, and why, in the reader's language.
/// `None` while the fields are still incomplete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfflineOutcome {
    pub authentic: bool,
    pub demo: bool,
    pub message: String,
}

/// Checks a receipt's QR code (`url`) against the facts printed on it and
/// the published keyring (`keyring_json`, as `/api/v1/receipts/keys` serves
/// it), with the shared code of [`crate::domain::receipt_sig`]: the same
/// check runs on the server (form without JavaScript) and in the browser
/// (this island, no network needed once the page is loaded).
pub fn offline_check(
    url: &str,
    total: &str,
    fecha: &str,
    cuenta: &str,
    keyring_json: &str,
    lang: Lang,
) -> Option<OfflineOutcome> {
    use crate::domain::money::Centavos;
    use crate::domain::receipt_sig::{parse_verify_url, verify, OfflineVerdict, PublicKeyEntry, ReceiptFacts};
    if [url, total, fecha, cuenta].iter().any(|f| f.trim().is_empty()) {
        return None;
    }
    let fail = |message: String| Some(OfflineOutcome { authentic: false, demo: false, message });
    let pick = |es: &str, en: &str| lang.pick(es, en).to_string();
    #[derive(serde::Deserialize)]
    struct Keyring {
        keys: Vec<PublicKeyEntry>,
    }
    let keys = match serde_json::from_str::<Keyring>(keyring_json) {
        Ok(k) => k.keys,
        Err(_) => return fail(pick("No hay llaves públicas para verificar.", "No public keys to verify with.")),
    };
    let (folio, token) = match parse_verify_url(url) {
        Ok(v) => v,
        Err(e) => return fail(pick(e.message_es(), e.message_en())),
    };
    let total = match Centavos::parse_printed(total) {
        Ok(t) => t,
        Err(e) => return fail(pick(e.message_es(), e.message_en())),
    };
    let date = match chrono::NaiveDate::parse_from_str(fecha.trim(), "%d/%m/%Y")
        .or_else(|_| chrono::NaiveDate::parse_from_str(fecha.trim(), "%Y-%m-%d"))
    {
        Ok(d) => d,
        Err(_) => return fail(pick("Escriba la fecha como DD/MM/AAAA.", "Write the date as DD/MM/YYYY.")),
    };
    let facts = match ReceiptFacts::new(folio, total, date, cuenta) {
        Ok(f) => f,
        Err(e) => return fail(pick(e.message_es(), e.message_en())),
    };
    let verdict = OfflineVerdict::of(&facts, verify(&facts, &token, &keys));
    Some(OfflineOutcome {
        authentic: verdict.accepted(),
        demo: verdict == OfflineVerdict::Demo,
        message: pick(verdict.message_es(), verdict.message_en()),
    })
}

/// The cashier desk's receipt check (`/verificar`): the QR's URL and the
/// facts printed on the paper. Without JavaScript the form is checked by
/// the server; with it, every keystroke is checked here, in the browser,
/// against the keyring embedded in the page — no network needed.
#[island]
pub fn OfflineCheck(
    lang: Lang,
    keyring: String,
    url: String,
    total: String,
    fecha: String,
    cuenta: String,
) -> impl IntoView {
    let url = RwSignal::new(url);
    let total = RwSignal::new(total);
    let fecha = RwSignal::new(fecha);
    let cuenta = RwSignal::new(cuenta);
    let outcome =
        Memo::new(move |_| offline_check(&url.get(), &total.get(), &fecha.get(), &cuenta.get(), &keyring, lang));
    let field = move |id: &'static str, label: &'static str, help: &'static str, value: RwSignal<String>| {
        view! {
            <label for=id>{label}</label>
            <p id=format!("{id}-help") class="help">{help}</p>
            <input id=id name=id type="text" autocomplete="off" spellcheck="false"
                aria-describedby=format!("{id}-help") data-testid=format!("check-{id}")
                prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))/>
        }
    };
    view! {
        {field("url", lang.pick("Enlace del código QR", "QR code link"),
            lang.pick("Escanee el código con la cámara y pegue aquí el enlace.", "Scan the code with the camera and paste the link here."), url)}
        {field("total", lang.pick("Total impreso", "Printed total"), lang.pick("Por ejemplo 1,234.50", "For example 1,234.50"), total)}
        {field("fecha", lang.pick("Fecha de emisión impresa", "Printed issue date"), lang.pick("DD/MM/AAAA", "DD/MM/YYYY"), fecha)}
        {field("cuenta", lang.pick("Cuenta impresa", "Printed account"), lang.pick("Por ejemplo P-000123", "For example P-000123"), cuenta)}
        <p class="live-hint" aria-live="polite" data-testid="check-live"
            class:ok=move || outcome.get().is_some_and(|o| o.authentic)
            data-authentic=move || outcome.get().map(|o| o.authentic.to_string())
            data-verdict=move || outcome.get().map(|o| if o.authentic { "valid" } else if o.demo { "demo" } else { "invalid" })>
            {move || outcome.get().map(|o| o.message)}
        </p>
    }
}
