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
        Err(e) => (false, match lang {
            Lang::Es => e.message_es().to_string(),
            Lang::En => e.message_en().to_string(),
        }),
    })
}
